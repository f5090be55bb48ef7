"""The per-request context: the store, who is calling, and the request's DataLoaders."""

from dataclasses import dataclass, field

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
    introspection: bool = True  # whether this server answers __schema and __type (settings)
    refusal: api_keys.Refusal = api_keys.NO_AUTHORIZATION  # why there is no caller, when there is none
    # A WebSocket's connection_init payload: Strawberry sets it on the connection's context.
    connection_params: dict[str, object] | None = field(default=None)
    # The loaders, fresh for each request (renew_loaders), so nothing cached crosses callers.
    report_suites: DataLoader[str, ReportSuite | None] = field(init=False)
    data_sources: DataLoader[str, DataSource | None] = field(init=False)
    visitors: DataLoader[str, VisitorState | None] = field(init=False)
    hits: DataLoader[HitPage, tuple[list[StoredHit], bool]] = field(init=False)
    jobs: DataLoader[str, Job | None] = field(init=False)
    # Pages of nested connections, one round trip for all the parents of a list.
    job_pages: DataLoader[JobsPage, tuple[list[Job], bool]] = field(init=False)
    linked_rows: DataLoader[LinkedRowsPage, tuple[list[OfflineRow], bool]] = field(init=False)
    activity: DataLoader[ActivityPage, tuple[list[Activity], bool]] = field(init=False)
    visitor_transactions: DataLoader[TransactionsPage, tuple[list[Snapshot], bool]] = field(init=False)

    def __post_init__(self) -> None:
        self.renew_loaders()

    def sign_in(self, caller: Caller) -> None:
        """This connection's context as `caller`'s (a WebSocket's key comes in its init
        message, after the context was made for the handshake)."""
        self.caller, self.refusal = caller, api_keys.NO_AUTHORIZATION
        self.renew_loaders()

    def renew_loaders(self) -> None:
        """Forget what the loaders read. A WebSocket's context lives as long as the socket:
        each of its operations, and each update of a subscription, must read afresh."""
        store, caller = self.store, self.caller
        self.report_suites = DataLoader(lambda rsids: report_suites.get_many(store, caller, rsids))
        self.data_sources = DataLoader(lambda ids: data_sources.get_many(store, caller, ids))
        self.visitors = DataLoader(lambda keys: visitors.get_visitors(store, caller, keys))
        self.hits = DataLoader(lambda pages: visitors.page_hits_of_many(store, caller, pages))
        self.jobs = DataLoader(lambda ids: jobs.get_many(store, caller, ids))
        self.job_pages = DataLoader(lambda pages: jobs.pages(store, caller, pages))
        self.linked_rows = DataLoader(lambda pages: offline_rows.linked_rows_pages(store, caller, pages))
        self.activity = DataLoader(lambda pages: offline_rows.activity_pages(store, caller, pages))
        self.visitor_transactions = DataLoader(lambda pages: visitors.transactions_pages(store, caller, pages))


Info = strawberry.Info[Context, None]
