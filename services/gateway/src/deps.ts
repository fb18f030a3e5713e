import type { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { AuthServiceClient } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import type { IngestQueryServiceClient } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import type { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import type { PeopleServiceClient } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import type { WebhooksServiceClient } from "@facerec/proto/facerec/internal/webhooks/v1/webhooks.ts";
import type { RevocationFeed } from "@facerec/shared/tokens/revocation-feed.ts";
import type { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import type { GatewayConfig } from "./config.ts";

/** What the routes need: configuration and clients of the internal services. */
export interface GatewayDeps {
  config: GatewayConfig;
  auth: AuthServiceClient;
  keys: KeysServiceClient;
  audit: AuditServiceClient;
  ingest: IngestQueryServiceClient;
  people: PeopleServiceClient;
  /** Served by the people process, on PEOPLE_ADDR. */
  webhooks: WebhooksServiceClient;
  verifier: TokenVerifier;
  revocations: RevocationFeed;
}
