import os

from supabase import create_client

# ruleid: supabase/legacy-api-key
SERVICE_KEY = os.environ.get("SUPABASE_KEY", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3BxcnN0Iiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoyMDAwMDAwMDAwfQ.bm90LWEtcmVhbC1zaWduYXR1cmUtZWNvd2F0Y2gtZml4dHVyZQ")
# ok: supabase/legacy-api-key
LOCAL_DEV_KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.ZmFrZS1sb2NhbC1kZXYtc2lnbmF0dXJlLWVjb3dhdGNo"
# ok: supabase/legacy-api-key
SECRET_KEY = os.environ["SUPABASE_SECRET_KEY"]

client = create_client(os.environ["SUPABASE_URL"], SECRET_KEY)
