"""The per-request context: the store, who is calling, and the request's DataLoaders."""

from dataclasses import dataclass

import strawberry
from strawberry.dataloader import DataLoader

from models.activity import Activity
from models.companies import Caller
from models.data_sources import DataSource
from models.jobs import Job
from models.offline_rows import OfflineRow
from models.profiles import VisitorState
from models.report_suites import ReportSuite
from models.snapshots import Snapshot
from models.store import Store
from resolvers import data_sources, jobs, offline_rows, report_suites, visitors
from resolvers.jobs import JobsPage
from resolvers.offline_rows import ActivityPage, LinkedRowsPage
from resolvers.visitors import TransactionsPage


@dataclass
class Context:
    store: Store
    caller: Caller | None
    report_suites: DataLoader[str, ReportSuite | None]
    data_sources: DataLoader[str, DataSource | None]
    visitors: DataLoader[str, VisitorState | None]
    jobs: DataLoader[str, Job | None]
    # Pages of nested connections, one round trip for all the parents of a list.
    job_pages: DataLoader[JobsPage, tuple[list[Job], bool]]
    linked_rows: DataLoader[LinkedRowsPage, tuple[list[OfflineRow], bool]]
    activity: DataLoader[ActivityPage, tuple[list[Activity], bool]]
    visitor_transactions: DataLoader[TransactionsPage, tuple[list[Snapshot], bool]]
    introspection: bool = True  # whether this server answers __schema and __type (settings)

    @classmethod
    def build(cls, store: Store, caller: Caller | None, introspection: bool = True) -> "Context":
        """Fresh loaders per request, so nothing cached crosses callers."""
        return cls(
            store=store,
            caller=caller,
            introspection=introspection,
            report_suites=DataLoader(lambda rsids: report_suites.get_many(store, caller, rsids)),
            data_sources=DataLoader(lambda ids: data_sources.get_many(store, caller, ids)),
            visitors=DataLoader(lambda keys: visitors.get_visitors(store, caller, keys)),
            jobs=DataLoader(lambda ids: jobs.get_many(store, caller, ids)),
            job_pages=DataLoader(lambda pages: jobs.pages(store, caller, pages)),
            linked_rows=DataLoader(lambda pages: offline_rows.linked_rows_pages(store, caller, pages)),
            activity=DataLoader(lambda pages: offline_rows.activity_pages(store, caller, pages)),
            visitor_transactions=DataLoader(lambda pages: visitors.transactions_pages(store, caller, pages)),
        )


Info = strawberry.Info[Context, None]
