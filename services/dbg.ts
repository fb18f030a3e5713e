import { startTestStack } from "@facerec/shared/stack/test-stack.ts";

const t = await startTestStack();
const admin = await t.login();
const { id } = await t.createKey(admin, { role: "worker" });
console.log(await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { name: "Renamed" } }));
console.log(
  t.stack.output
    .filter((l) => /"level":(40|50)/.test(l))
    .join("\n")
    .slice(0, 3000),
);
await t.stop();
