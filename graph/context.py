"""The per-request context: the store, who is calling, and the request's DataLoaders."""

from dataclasses import dataclass, field, fields

import strawberry
from strawberry.dataloader import DataLoader

from models.activity import Activity
from models.companies import Caller
from models.data_sources import DataSource
from models.hits import StoredHit
from models.jobs import Job
from models.offline_rows import OfflineRow
from models.profiles import VisitorState
from models.report_suites import ReportSuite
from models.snapshots import Snapshot
from models.store import Store
from resolvers import api_keys, data_sources, jobs, offline_rows, report_suites, visitors
from resolvers.jobs import JobsPage
from resolvers.offline_rows import ActivityPage, LinkedRowsPage
from resolvers.visitors import HitPage, TransactionsPage


@dataclass
class Context:
    store: Store
    caller: Caller | None
    report_suites: DataLoader[str, ReportSuite | None]
    data_sources: DataLoader[str, DataSource | None]
    visitors: DataLoader[str, VisitorState | None]
    hits: DataLoader[HitPage, tuple[list[StoredHit], bool]]
    jobs: DataLoader[str, Job | None]
    # Pages of nested connections, one round trip for all the parents of a list.
    job_pages: DataLoader[JobsPage, tuple[list[Job], bool]]
    linked_rows: DataLoader[LinkedRowsPage, tuple[list[OfflineRow], bool]]
    activity: DataLoader[ActivityPage, tuple[list[Activity], bool]]
    visitor_transactions: DataLoader[TransactionsPage, tuple[list[Snapshot], bool]]
    introspection: bool = True  # whether this server answers __schema and __type (settings)
    refusal: api_keys.Refusal = api_keys.NO_AUTHORIZATION  # why there is no caller, when there is none
    # A WebSocket's connection_init payload: Strawberry sets it on the connection's context.
    connection_params: dict[str, object] | None = field(default=None)

    @classmethod
    def build(
        cls, store: Store, caller: Caller | None, introspection: bool = True, refusal: api_keys.Refusal = api_keys.NO_AUTHORIZATION
    ) -> "Context":
        """Fresh loaders per request, so nothing cached crosses callers."""
        return cls(
            store=store,
            caller=caller,
            introspection=introspection,
            refusal=refusal,
            report_suites=DataLoader(lambda rsids: report_suites.get_many(store, caller, rsids)),
            data_sources=DataLoader(lambda ids: data_sources.get_many(store, caller, ids)),
            visitors=DataLoader(lambda keys: visitors.get_visitors(store, caller, keys)),
            # The hit pages of a whole page of visitors, in one store read.
            hits=DataLoader(lambda pages: visitors.page_hits_of_many(store, caller, pages)),
            jobs=DataLoader(lambda ids: jobs.get_many(store, caller, ids)),
            job_pages=DataLoader(lambda pages: jobs.pages(store, caller, pages)),
            linked_rows=DataLoader(lambda pages: offline_rows.linked_rows_pages(store, caller, pages)),
            activity=DataLoader(lambda pages: offline_rows.activity_pages(store, caller, pages)),
            visitor_transactions=DataLoader(lambda pages: visitors.transactions_pages(store, caller, pages)),
        )

    def sign_in(self, caller: Caller) -> None:
        """This connection's context as `caller`'s, fresh loaders included (a WebSocket's key
        comes in its init message, after the context was made for the handshake)."""
        fresh = Context.build(self.store, caller, self.introspection)
        for each in fields(self):
            if each.name != "connection_params":
                setattr(self, each.name, getattr(fresh, each.name))


Info = strawberry.Info[Context, None]
