# audit — the audit trail pages
audit-title = Audit trail
audit-chain-ok = The audit chain is intact: { $records } operation records and { $items } items all match their hashes.
audit-chain-broken = Checking the audit chain found { $problems } problem(s) in { $records } operation records:
audit-scoped = Showing only records that touch your account's division:
audit-filter-actor = Person
audit-filter-actor-hint = Account name, e.g. chengkou
audit-filter-record = Record
audit-filter-record-hint = Household number or account name
audit-filter-division = Division
audit-filter-division-hint = Division code or its first digits, e.g. 500229
audit-filter-action = Action
audit-filter-any = Any
audit-filter-from = From (date)
audit-filter-to = To (date)
audit-filter-submit = Search
audit-none = No audit record matches.
audit-newest = Newest records
audit-older = Older records
audit-col-seq = No.
audit-col-time = Time (Beijing)
audit-col-actor = Person
audit-col-action = Action
audit-col-object = Record
audit-col-division = Division
audit-col-reason = Reason
audit-col-items = Items
audit-col-item = Item
audit-operation = Audit record
audit-hash = Hash
audit-prev-hash = Hash of the record before
audit-before = Before
audit-after = After
audit-items = Items (ID and phone numbers masked)
audit-no-items = This operation has no itemised changes.
audit-more-items = More items
audit-items-hidden = { $count } more { $count ->
    [one] item lies
   *[other] items lie
} outside your area and { $count ->
    [one] is
   *[other] are
} not shown.
audit-action-sign-in = Sign-in
audit-action-sign-in-failed = Failed sign-in
audit-action-sign-out = Sign-out
audit-action-registry-write = Registry write
audit-action-registry-legacy-monitoring = Import of households monitored before zhenxing
audit-action-registry-export = Registry export
audit-action-audit-export = Audit trail export
audit-export-xlsx = Export to Excel
audit-export-csv = Export CSV
audit-action-reveal = Full ID and phone numbers shown
audit-action-account-create = Account created
audit-action-account-disable = Account disabled
audit-action-account-enable = Account enabled
audit-action-account-password = Password reset
audit-action-token-create = API token created
audit-action-divisions-import = Division import
audit-action-former-poverty-villages = Former poverty villages marked
audit-action-update = Changed
audit-action-monitor-run = Monitoring screening run
audit-action-warning-assign = Warning assigned for home verification
audit-action-warning-verify = Warning verified
audit-action-warning-dismiss = Warning dismissed
audit-action-warning-visit = Visit recorded
audit-action-warning-self-declaration = Self-declaration recorded
