import os

from supabase import create_client

# ruleid: supabase/legacy-key-env-name
key = os.environ["SUPABASE_SERVICE_ROLE_KEY"]
# ruleid: supabase/legacy-key-env-name
anon = os.getenv("SUPABASE_ANON_KEY", "")
# ok: supabase/legacy-key-env-name
secret = os.environ["SUPABASE_SECRET_KEY"]

client = create_client(os.environ["SUPABASE_URL"], secret)
