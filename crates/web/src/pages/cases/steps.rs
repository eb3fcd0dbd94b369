//! A step taken on a case: the form read into a `Step` and sent to the store.

use super::*;

/// The procedures' readers of a form's fields (`pages::Fields`).
impl Fields {
    fn date(&self, name: &str, what: (&str, &str)) -> Result<Date, Text> {
        let value = self.one(name);
        parse_date(&value).ok_or_else(|| {
            let (zh, en) = what;
            Text::new(
                format!("请填写{zh}（年-月-日）"),
                format!("give {en} (year-month-day)"),
            )
        })
    }

    fn yes(&self, name: &str) -> Result<bool, Text> {
        match self.one(name).as_str() {
            "yes" => Ok(true),
            "no" => Ok(false),
            _ => Err(Text::new("请选择“是”或“否”", "choose yes or no")),
        }
    }

    fn amount(&self, name: &str, what: (&str, &str)) -> Result<Fen, Text> {
        let value = self.one(name);
        let (zh, en) = what;
        if value.is_empty() {
            return Err(Text::new(
                format!("请填写{zh}（元）"),
                format!("give {en} (yuan)"),
            ));
        }
        Fen::parse(&value).map_err(|e| {
            let t = e.text();
            Text::new(format!("{zh}：{}", t.zh), format!("{en}: {}", t.en))
        })
    }

    fn risks(&self) -> Result<Vec<RiskType>, Text> {
        self.all("risk")
            .iter()
            .map(|r| RiskType::parse(r))
            .collect()
    }

    fn category(&self) -> Result<Option<MonitoringCategory>, Text> {
        match self.one("category").as_str() {
            "" => Ok(None),
            code => MonitoringCategory::parse(code).map(Some),
        }
    }
}

/// A field's value, or its problem noted with the field.
fn read<T>(
    problems: &mut Vec<(&'static str, Text)>,
    field: &'static str,
    result: Result<T, Text>,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push((field, e));
            None
        }
    }
}

/// A home verification form read with every problem at once, each with its field: the
/// fields that do not parse, and the core's checks of the ones that do.
fn verification_from(kind: CaseKind, f: &Fields) -> Result<Step, Vec<(&'static str, Text)>> {
    let mut problems: Vec<(&'static str, Text)> = Vec::new();
    let identification = kind == CaseKind::Identification;
    let visited_on = read(
        &mut problems,
        "visited_on",
        f.date("visited_on", ("入户日期", "the day of the visit")),
    );
    let income = read(
        &mut problems,
        "income",
        f.amount(
            "income",
            (
                "近12个月家庭人均纯收入",
                "the per-capita net income of the last 12 months",
            ),
        ),
    );
    let rigid = read(
        &mut problems,
        "rigid_spending",
        f.amount("rigid_spending", ("刚性支出", "the rigid spending")),
    );
    let category = if identification {
        read(&mut problems, "category", f.category()).flatten()
    } else {
        None
    };
    let risks = if identification {
        read(&mut problems, "risk", f.risks()).unwrap_or_default()
    } else {
        Vec::new()
    };
    let form = VerificationForm {
        visited_on: visited_on.unwrap_or(Date::MIN),
        per_capita_income: income.unwrap_or(Fen(0)),
        rigid_spending: rigid.unwrap_or(Fen(0)),
        problems: Conditions {
            food: f.has("problem", "food"),
            clothing: f.has("problem", "clothing"),
            schooling: f.has("problem", "schooling"),
            medical_insurance: f.has("problem", "medical_insurance"),
            housing: f.has("problem", "housing"),
            water: f.has("problem", "water"),
        },
        category,
        risks,
        commitment_signed: identification && f.has("commitment", "yes"),
        rigid_spending_resolved: !identification && f.has("rigid_resolved", "yes"),
        note: f.one("note"),
    };
    // The core's checks of what was read; a field already refused is not judged again.
    for (field, problem) in zhenxing_core::procedure::verification_problems(kind, &form) {
        if !problems.iter().any(|(f, _)| *f == field) {
            problems.push((field, problem));
        }
    }
    if problems.is_empty() {
        Ok(Step::Verify(form))
    } else {
        Err(problems)
    }
}

/// The step a form describes, or every problem of the form, each with its field (empty: the
/// form as a whole).
pub(super) fn step_from(
    code: &str,
    kind: CaseKind,
    f: &Fields,
) -> Result<Step, Vec<(&'static str, Text)>> {
    if code == "verify" {
        return verification_from(kind, f);
    }
    let mut problems: Vec<(&'static str, Text)> = Vec::new();
    let p = &mut problems;
    let note = f.one("note");
    let step = match code {
        "compare" => read(p, "consistent", f.yes("consistent"))
            .map(|consistent| Step::Compare { consistent, note }),
        "appraise" => {
            let held_on = read(
                p,
                "held_on",
                f.date("held_on", ("评议日期", "the day of the appraisal")),
            );
            let attendance = read(
                p,
                "attendance",
                f.one("attendance").parse().map_err(|_| {
                    Text::new(
                        "请填写参加人数（整数）",
                        "give the number of participants (a whole number)",
                    )
                }),
            );
            let agreed = read(p, "agreed", f.yes("agreed"));
            match (held_on, attendance, agreed) {
                (Some(held_on), Some(attendance), Some(agreed)) => Some(Step::Appraise {
                    held_on,
                    attendance,
                    participants: f.one("participants"),
                    agreed,
                    note,
                }),
                _ => None,
            }
        }
        "post_notice" => {
            let starts_on = read(
                p,
                "starts_on",
                f.date("starts_on", ("公示开始日期", "the first day of the notice")),
            );
            let ends_on = read(
                p,
                "ends_on",
                f.date("ends_on", ("公示结束日期", "the last day of the notice")),
            );
            match (starts_on, ends_on) {
                (Some(starts_on), Some(ends_on)) => Some(Step::PostNotice { starts_on, ends_on }),
                _ => None,
            }
        }
        "object" => read(
            p,
            "received_on",
            f.date(
                "received_on",
                ("收到异议的日期", "the day the objection came"),
            ),
        )
        .map(|received_on| Step::Object { received_on, note }),
        "resolve_objection" => read(
            p,
            "number",
            f.one("number")
                .parse()
                .map_err(|_| Text::new("请选择要处理的异议", "choose the objection to resolve")),
        )
        .map(|number| Step::ResolveObjection { number, note }),
        "close_notice" => Some(Step::CloseNotice { note }),
        "township_approve" => Some(Step::TownshipApprove { note }),
        "county_approve" => {
            let category = read(p, "category", f.category());
            let risks = read(p, "risk", f.risks());
            let method = read(
                p,
                "method",
                match f.one("method").as_str() {
                    "" => Ok(None),
                    m => EliminationMethod::parse(m).map(Some),
                },
            );
            match (category, risks, method) {
                (Some(category), Some(risks), Some(method)) => Some(Step::CountyApprove {
                    category,
                    risks,
                    method,
                    note,
                }),
                _ => None,
            }
        }
        "announce" => read(
            p,
            "on",
            f.date("on", ("公告日期", "the day of the announcement")),
        )
        .map(|on| Step::Announce { on, note }),
        "reject" => Some(Step::Reject { reason: note }),
        "withdraw" => Some(Step::Withdraw { reason: note }),
        "comment" => Some(Step::Comment { note }),
        "record_national" => {
            let on = read(
                p,
                "on",
                f.date(
                    "on",
                    (
                        "录入全国系统的日期",
                        "the day of the entry in the national system",
                    ),
                ),
            );
            let record_number = read(
                p,
                "record_number",
                check_record_number(&f.one("record_number")),
            );
            match (on, record_number) {
                (Some(on), Some(record_number)) => Some(Step::RecordNational {
                    on,
                    record_number,
                    note,
                }),
                _ => None,
            }
        }
        _ => {
            p.push(("", Text::new("未知的办理步骤", "unknown step")));
            None
        }
    };
    match step {
        Some(step) if problems.is_empty() => Ok(step),
        _ => Err(problems),
    }
}

pub async fn take_step(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, code)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Fields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WorkCases)?;
    let id = parse_id(&id)?;
    if StepKind::from_code(&code).is_none_or(|k| k == StepKind::Open) {
        return Err(AppError::NotFound);
    }
    // Outside the account's division the case does not exist, whatever the form says.
    let detail = procedures::case(&state.db, &account.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = detail.case.kind()?;
    let version: i64 = fields
        .one("version")
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "the version is not valid"))?;
    let lang = viewer.lang;
    let kept = |field_errors: Vec<(String, String)>| Kept {
        step: code.clone(),
        fields: fields.clone(),
        field_errors,
        done: String::new(),
    };
    let parsed = if matches!(code.as_str(), "reject" | "withdraw") && !fields.has("confirm", "yes")
    {
        // Ending a case is asked twice.
        Err(vec![(
            "confirm",
            Text::new(
                "请勾选确认后再提交：驳回或撤回后程序即结束",
                "tick the confirmation and send again: a rejected or withdrawn case is closed",
            ),
        )])
    } else {
        step_from(&code, kind, &fields)
    };
    let step = match parsed {
        Ok(step) => step,
        Err(problems) => {
            let errors = problems
                .iter()
                .map(|(_, p)| p.get(lang).to_owned())
                .collect();
            let by_field = problems
                .iter()
                .filter(|(f, _)| !f.is_empty())
                .map(|(f, p)| ((*f).to_owned(), p.get(lang).to_owned()))
                .collect();
            return detail_page(&state, &viewer, id, errors, kept(by_field)).await;
        }
    };
    let policy = procedures::policy(&state.db).await?;
    let request = StepRequest {
        case_id: id,
        expected_version: version,
        step,
    };
    match procedures::take_step(&state.db, account, &request, &policy)
        .await?
        .or_refused()?
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done={code}")).into_response()),
        Err(why) => {
            detail_page(
                &state,
                &viewer,
                id,
                vec![why.get(lang).to_owned()],
                kept(Vec::new()),
            )
            .await
        }
    }
}
