import openai
from openai import OpenAI

client = OpenAI()

# ruleid: openai/pre-v1-api
reply = openai.ChatCompletion.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
# ruleid: openai/pre-v1-api
vectors = openai.Embedding.create(model="text-embedding-3-small", input=["a", "b"])
# ok: openai/pre-v1-api
reply2 = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
# ok: openai/pre-v1-api
vectors2 = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
# ok: openai/pre-v1-api
error_type = openai.APIError
