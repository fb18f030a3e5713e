/**
 * `multipart/form-data` request bodies (photo uploads), parsed with @fastify/busboy as they stream
 * in: the upload is cut off at the size limit instead of being buffered whole first. Files become
 * Buffers and text fields strings on `ctx.request.body`, which the route's zod schema then validates
 * like a JSON body.
 */

import { MAX_PHOTO_BYTES } from "@facerec/shared/photo-limits.ts";
import { Busboy } from "@fastify/busboy";
import type { Context, Next } from "koa";
import { Problem } from "./middleware/problem.ts";

/** Text fields are small (an index, a box): anything longer is a mistake. */
const MAX_FIELD_BYTES = 1024;

export async function multipartBody(ctx: Context, next: Next): Promise<void> {
  if (!ctx.is("multipart/form-data"))
    throw new Problem(
      "unsupported_media_type",
      "send multipart/form-data with the photo in the field `image`",
    );
  if (Number(ctx.get("content-length")) > MAX_PHOTO_BYTES + 64 * 1024) throw tooLarge();
  (ctx.request as { body?: unknown }).body = await parse(ctx);
  await next();
}

const tooLarge = () =>
  new Problem("image_too_large", `the photo must be at most ${MAX_PHOTO_BYTES} bytes (10 MiB)`);

function parse(ctx: Context): Promise<Record<string, Buffer | string>> {
  return new Promise((resolve, reject) => {
    let parser: InstanceType<typeof Busboy>;
    try {
      parser = new Busboy({
        headers: ctx.req.headers as { "content-type": string },
        limits: { fileSize: MAX_PHOTO_BYTES, files: 1, fields: 8, fieldSize: MAX_FIELD_BYTES, parts: 9 },
      });
    } catch (err) {
      return reject(new Problem("malformed_request", `not a multipart body: ${(err as Error).message}`));
    }
    const body: Record<string, Buffer | string> = {};
    let failure: Problem | undefined;
    const fail = (problem: Problem) => {
      failure ??= problem;
      // Stop reading: the rest of the upload is drained by Node when the response is sent.
      ctx.req.unpipe(parser);
      ctx.req.resume();
      reject(failure);
    };
    parser.on("file", (field, stream) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => fail(tooLarge()));
      stream.on("end", () => {
        if (!stream.truncated) body[field] = Buffer.concat(chunks);
      });
    });
    parser.on("field", (field, value, _nameTruncated, valueTruncated) => {
      if (valueTruncated) fail(new Problem("validation_failed", `body.${field}: too long`));
      else body[field] = value;
    });
    parser.on("filesLimit", () =>
      fail(new Problem("validation_failed", "send one file, in the field `image`")),
    );
    parser.on("error", (err: Error) =>
      fail(new Problem("malformed_request", `malformed multipart body: ${err.message}`)),
    );
    parser.on("finish", () => {
      if (!failure) resolve(body);
    });
    ctx.req.on("error", (err) => fail(new Problem("malformed_request", err.message)));
    ctx.req.pipe(parser);
  });
}
