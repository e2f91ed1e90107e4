# A module that does not import cryptography is never looked at (imports gate).
import hashlib


def digest(data: bytes) -> str:
    # ok: supabase/fernet-secrets-use-vault
    return hashlib.sha256(data).hexdigest()  # was: from cryptography.fernet import Fernet
