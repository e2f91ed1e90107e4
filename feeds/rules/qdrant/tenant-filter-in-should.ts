import { QdrantClient } from "@qdrant/js-client-rest";

const client = new QdrantClient({ url: process.env.QDRANT_URL });

export async function search(tenantId: string, vector: number[]) {
  return client.query("documents", {
    query: vector,
    filter: {
      // ruleid: qdrant/tenant-filter-in-should
      should: [
        { key: "tenant_id", match: { value: tenantId } },
        { key: "shared", match: { value: true } },
      ],
    },
  });
}

export async function safe(tenantId: string, vector: number[]) {
  return client.query("documents", {
    query: vector,
    filter: {
      // ok: qdrant/tenant-filter-in-should
      must: [{ key: "tenant_id", match: { value: tenantId } }],
      // ok: qdrant/tenant-filter-in-should
      should: [{ key: "lang", match: { value: "en" } }],
    },
  });
}
