import os

# ruleid: supabase/fernet-secrets-use-vault
from cryptography.fernet import Fernet

box = Fernet(os.environ["FERNET_KEY"])
