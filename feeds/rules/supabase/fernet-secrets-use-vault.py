import os

# ruleid: supabase/fernet-secrets-use-vault
from cryptography.fernet import Fernet, InvalidToken
# ok: supabase/fernet-secrets-use-vault
from cryptography.hazmat.primitives import hashes
# ok: supabase/fernet-secrets-use-vault
# from cryptography.fernet import MultiFernet
from supabase import create_client

fernet = Fernet(os.environ["TOKEN_ENCRYPTION_KEY"])


def store_token(user_id: str, token: str) -> None:
    client = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_SECRET_KEY"])
    sealed = fernet.encrypt(token.encode()).decode()
    client.table("integrations").upsert({"user_id": user_id, "token": sealed}).execute()


def read_token(sealed: str) -> str | None:
    try:
        return fernet.decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def lazy():
    # ruleid: supabase/fernet-secrets-use-vault
    import cryptography.fernet

    return cryptography.fernet.Fernet.generate_key()
