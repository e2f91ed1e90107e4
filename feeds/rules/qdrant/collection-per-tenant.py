from qdrant_client import QdrantClient, models

client = QdrantClient(url="http://localhost:6333")
VECTORS = models.VectorParams(size=384, distance=models.Distance.COSINE)


def on_signup(user_id: str, org: dict) -> None:
    # ruleid: qdrant/collection-per-tenant
    client.create_collection(f"docs_{user_id}", vectors_config=VECTORS)

    # ruleid: qdrant/collection-per-tenant
    client.create_collection(
        collection_name=f"org-{org['id']}-memories",
        vectors_config=VECTORS,
    )

    # ruleid: qdrant/collection-per-tenant
    client.recreate_collection("tenant_" + str(org["tenant_id"]), vectors_config=VECTORS)

    # ruleid: qdrant/collection-per-tenant
    client.create_collection(collection_name="customer_{}".format(org["customer_id"]), vectors_config=VECTORS)


def setup() -> None:
    # ok: qdrant/collection-per-tenant
    client.create_collection(collection_name="documents", vectors_config=VECTORS)
    # ok: qdrant/collection-per-tenant
    client.create_collection(f"documents_{EMBEDDING_MODEL}", vectors_config=VECTORS)
    # ok: qdrant/collection-per-tenant
    client.create_payload_index("documents", field_name="tenant_id", field_schema=models.KeywordIndexParams(type="keyword", is_tenant=True))
    # ok: qdrant/collection-per-tenant
    # client.create_collection(f"docs_{user_id}", vectors_config=VECTORS)


EMBEDDING_MODEL = "bge-small"
