import { QdrantClient } from "@qdrant/js-client-rest";

const client = new QdrantClient({ url: process.env.QDRANT_URL });

export async function onSignup(userId: string, tenant: { id: string }) {
  // ruleid: qdrant/collection-per-tenant
  await client.createCollection(`memories_${userId}`, {
    vectors: { size: 1536, distance: "Cosine" },
  });
  // ruleid: qdrant/collection-per-tenant
  await client.createCollection("tenant-" + tenant.id, { vectors: { size: 1536, distance: "Cosine" } });
}

export async function setup(model: string) {
  // ok: qdrant/collection-per-tenant
  await client.createCollection("memories", { vectors: { size: 1536, distance: "Cosine" } });
  // ok: qdrant/collection-per-tenant
  await client.createCollection(`memories_${model}`, { vectors: { size: 1536, distance: "Cosine" } });
  // ok: qdrant/collection-per-tenant
  await client.createPayloadIndex("memories", { field_name: "tenant_id", field_schema: { type: "keyword", is_tenant: true } });
}
