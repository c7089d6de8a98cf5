"""Savepoints sent to PostgreSQL with the next statement instead of on their own.

The store nests a savepoint per message, per label batch and per assignment
(`StoreBase.transaction`), so a LabelBatch opened and released three of them: six statements
that each waited for the server's answer, more round trips than the batch's own work took.
`Deferred` holds `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` back until a statement that does
work comes, and `PgConnection` sends them ahead of it in one pipeline (one round trip).

What the server sees is the same sequence of savepoint commands in the same order before
every statement, except where nothing ran in between, which changes nothing:

- `SAVEPOINT n` followed by `RELEASE n` with no statement between them: both dropped;
- `ROLLBACK TO n` while `SAVEPOINT n` was not sent yet: nothing ran since it, so only the
  savepoint commands held after it are dropped (`SAVEPOINT n` itself stays, as a savepoint
  stays after ROLLBACK TO);
- `ROLLBACK` of the whole transaction: the held commands die with it; so do they at `COMMIT`
  unless one is a `ROLLBACK TO` (a failed statement leaves the transaction aborted until
  it, and PostgreSQL ends an aborted transaction's COMMIT with a rollback), then all of them
  go first.

Pure logic: no I/O; `PgConnection` does the sending.
"""

from __future__ import annotations


def _command(sql: str) -> tuple[str, str] | None:
    """("SAVEPOINT" | "RELEASE" | "ROLLBACK TO", name) for a savepoint command, else None."""
    words = sql.split()
    if len(words) == 2 and words[0].upper() in ("SAVEPOINT", "RELEASE"):
        return words[0].upper(), words[1]
    if len(words) == 3 and words[0].upper() == "ROLLBACK" and words[1].upper() == "TO":
        return "ROLLBACK TO", words[2]
    return None


class Deferred:
    """Savepoint commands held back until the next statement that does work."""

    def __init__(self) -> None:
        self.pending: list[str] = []

    def hold(self, sql: str) -> bool:
        """Take `sql` if it is a savepoint command that may wait (True: not to be sent now)."""
        command = _command(sql)
        if command is None:
            return False
        kind, name = command
        opened = f"SAVEPOINT {name}"
        if kind == "SAVEPOINT":
            self.pending.append(opened)
        elif kind == "RELEASE":
            if self.pending and self.pending[-1] == opened:
                self.pending.pop()  # nothing ran inside it
            else:
                self.pending.append(f"RELEASE {name}")
        else:  # ROLLBACK TO
            if opened in self.pending:
                # not sent yet, so nothing ran since it: keep the savepoint, drop what
                # was held after it
                del self.pending[len(self.pending) - self.pending[::-1].index(opened) :]
            else:
                self.pending.append(f"ROLLBACK TO {name}")
        return True

    def ending(self, commit: bool) -> list[str]:
        """What must go before the transaction's COMMIT (`commit`) or ROLLBACK: the held
        commands if a ROLLBACK TO is among them and it is a COMMIT, else nothing."""
        out = self.take()
        return out if commit and any(x.startswith("ROLLBACK TO") for x in out) else []

    def take(self) -> list[str]:
        """The held commands, in order, to send before the next statement (and forget)."""
        out, self.pending = self.pending, []
        return out
