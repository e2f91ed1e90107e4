from qdrant_client import QdrantClient, models

client = QdrantClient(url="http://localhost:6333")


def search(tenant_id: str, vector: list[float], public: bool):
    return client.query_points(
        collection_name="documents",
        query=vector,
        query_filter=models.Filter(
            # ruleid: qdrant/tenant-filter-in-should
            should=[
                models.FieldCondition(key="tenant_id", match=models.MatchValue(value=tenant_id)),
                models.FieldCondition(key="is_public", match=models.MatchValue(value=True)),
            ],
        ),
    )


def scroll(user_id: str):
    return client.scroll(
        collection_name="documents",
        # ruleid: qdrant/tenant-filter-in-should
        scroll_filter=models.Filter(should=[{"key": "user_id", "match": {"value": user_id}}]),
    )


def safe(tenant_id: str, vector: list[float]):
    return client.query_points(
        collection_name="documents",
        query=vector,
        query_filter=models.Filter(
            # ok: qdrant/tenant-filter-in-should
            must=[models.FieldCondition(key="tenant_id", match=models.MatchValue(value=tenant_id))],
            # ok: qdrant/tenant-filter-in-should
            should=[models.FieldCondition(key="category", match=models.MatchValue(value="faq"))],
        ),
    )


def commented(tenant_id: str):
    # ok: qdrant/tenant-filter-in-should
    # f = models.Filter(should=[models.FieldCondition(key="tenant_id", match=models.MatchValue(value=tenant_id))])
    return None
