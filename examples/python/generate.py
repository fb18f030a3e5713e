"""Generates Python stubs for the public ingest contract from the repository's proto/ folder.

    python generate.py            # writes gen/facerec/ingest/v1/ingest_pb2.py and ingest_pb2_grpc.py

Only the published .proto files are used; google/protobuf/timestamp.proto comes with grpcio-tools.
"""

import pathlib
import sys

import grpc_tools
from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
OUT = HERE / "gen"
CONTRACTS = ["facerec/ingest/v1/ingest.proto"]


def main() -> int:
    OUT.mkdir(exist_ok=True)
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={OUT}",
        f"--grpc_python_out={OUT}",
        *CONTRACTS,
    ]
    code = protoc.main(args)
    if code != 0:
        print(f"protoc failed with exit code {code}", file=sys.stderr)
        return code
    # Make the generated folders importable as packages (protoc does not write __init__.py files).
    for folder in [OUT, *[p for p in OUT.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    print(f"generated stubs for {', '.join(CONTRACTS)} in {OUT.relative_to(HERE)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
