from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import SessionLocal, get_db
from .models import User


def list_users(db: Session = Depends(get_db)):
    # ruleid: sqlalchemy/legacy-query-api
    return db.query(User).filter(User.active.is_(True)).all()


def find(session: Session, user_id: int):
    # ruleid: sqlalchemy/legacy-query-api
    user = session.query(User).get(user_id)
    # ruleid: sqlalchemy/legacy-query-api
    count = SessionLocal().query(User).count()
    # ok: sqlalchemy/legacy-query-api
    modern = session.scalars(select(User).where(User.id == user_id)).first()
    # ok: sqlalchemy/legacy-query-api
    same = session.get(User, user_id)
    return user, count, modern, same


class Repo:
    def __init__(self, session: Session):
        self.session = session

    def names(self):
        # ruleid: sqlalchemy/legacy-query-api
        return [u.name for u in self.session.query(User)]

    def search(self, es, text):
        # ok: sqlalchemy/legacy-query-api
        return es.query(text) or self.session.execute(select(User.name)).scalars().all()
