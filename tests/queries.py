"""The GraphQL documents more than one test file sends, one name each. A document only
one file sends stays in that file."""

# --- the caller ---------------------------------------------------------------------

VIEWER = "query { viewer { companyId role keyId } }"

# --- report suites ------------------------------------------------------------------

SUITE_FIELDS = """
fragment Suite on ReportSuite {
  id rsid name timeZone currency visitTimeoutMinutes transactionIdWindowDays
  transactionIdRecording { enabled changedAt changedBy }
  evarSettings { number expiration days allocation }
}"""

LIST_SUITES = "query { reportSuites { edges { node { rsid name } } } }"

CREATE_SUITE = (
    """
mutation($input: CreateReportSuiteInput!) {
  createReportSuite(input: $input) { reportSuite { ...Suite } userErrors { field code message } }
}"""
    + SUITE_FIELDS
)

UPDATE_SUITE = (
    """
mutation($input: UpdateReportSuiteInput!) {
  updateReportSuite(input: $input) { reportSuite { ...Suite } userErrors { field code message } }
}"""
    + SUITE_FIELDS
)

SET_RECORDING = (
    """
mutation($input: SetTransactionIdRecordingInput!) {
  setTransactionIdRecording(input: $input) {
    reportSuite { ...Suite dataSources { edges { node { name transactionIdRecording } } } }
    userErrors { field code message }
  }
}"""
    + SUITE_FIELDS
)

# --- data sources -------------------------------------------------------------------

SOURCE_FIELDS = """
fragment Source on DataSource {
  id rsid name category type integration status builtIn stopOnErrors templateFile transactionIdRecording
  dimensions { header friendlyName }
  metrics { header friendlyName }
}"""

CREATE_SOURCE = (
    """
mutation($input: CreateDataSourceInput!) {
  createDataSource(input: $input) { dataSource { ...Source } userErrors { field code message } }
}"""
    + SOURCE_FIELDS
)

CONFIGURE_SOURCE = (
    """
mutation($input: ConfigureDataSourceInput!) {
  configureDataSource(input: $input) { dataSource { ...Source } userErrors { field code message } }
}"""
    + SOURCE_FIELDS
)

DEACTIVATE_SOURCE = (
    """
mutation($input: DeactivateDataSourceInput!) {
  deactivateDataSource(input: $input) { dataSource { ...Source } userErrors { field code message } }
}"""
    + SOURCE_FIELDS
)

# --- online data: collection, visitors, transactions --------------------------------

COLLECT = """
mutation($input: CollectHitsInput!) {
  collectHits(input: $input) {
    collectedCount refusedCount
    outcomes { index collected visitNumber errors { field code message } transactionIds { transactionId result } }
    snapshots { id transactionId visitNumber snapshot { dimension value } visitor { visitorId } }
    userErrors { field code message }
  }
}"""

VISITOR = """
query($rsid: String!, $visitorId: String!) {
  reportSuite(rsid: $rsid) {
    visitor(visitorId: $visitorId) {
      id visitorId visitCount firstSeen lastSeen
      profile { dimension value setAt visitNumber }
    }
  }
}"""

HITS = """
query($rsid: String!, $visitorId: String!, $first: Int!, $after: String) {
  reportSuite(rsid: $rsid) {
    visitor(visitorId: $visitorId) {
      hits(first: $first, after: $after) {
        edges {
          cursor
          node { id visitorId timestamp visitNumber values { dimension value } events { event value } transactionId }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""

TRANSACTION_FIELDS = """
fragment Tx on Transaction {
  id transactionId visitor { visitorId } snapshot { dimension value } visitNumber
  recordedAt expiresAt status linkedRowCount
}"""

TRANSACTION = (
    """
query($rsid: String!, $id: String!) {
  reportSuite(rsid: $rsid) { transaction(transactionId: $id) { ...Tx } }
}"""
    + TRANSACTION_FIELDS
)

TRANSACTIONS = (
    """
query($rsid: String!, $first: Int!, $after: String, $status: TransactionStatus) {
  reportSuite(rsid: $rsid) {
    transactions(first: $first, after: $after, status: $status) {
      edges { cursor node { ...Tx } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
    + TRANSACTION_FIELDS
)

# --- uploads and the file log -------------------------------------------------------

UPLOAD_FILE = """
mutation($input: UploadDataSourceFileInput!) {
  uploadDataSourceFile(input: $input) { job { id name status } userErrors { field code message } }
}"""

JOB_DETAILS = """
query($id: ID!) {
  node(id: $id) {
    ... on Job {
      name status rowCount linkedByTransaction linkedByVisitor summaryRows lateLinkedRows skippedRows errorCount warningCount
      progress linesDone deletedAt deletedBy
      problems(first: 100) { edges { node { line column code message severity } } }
      dataSource { name locked }
    }
  }
}"""

DELETE_JOB_DATA = """
mutation($input: DeleteJobDataInput!) {
  deleteJobData(input: $input) {
    job { id status rowCount deletedAt deletedBy } deletedRowCount alreadyDeleted userErrors { field code message }
  }
}"""

JOB_PROGRESS = "subscription($id: ID!) { jobProgress(jobId: $id) { status linesDone progress rowCount linkedByTransaction summaryRows } }"
