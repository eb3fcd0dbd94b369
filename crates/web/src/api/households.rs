//! Households: the filtered, keyset-paginated list with search, one household with its
//! members, and changes to a household with optimistic concurrency. The filters and the scope
//! (`crate::scope`) and the edit rules (`zhenxing_app::households`) are the pages' too, so the
//! API and the browser cannot disagree about what is allowed.

use crate::AppState;
use crate::api::dto::{
    ApiError, Household, HouseholdListItem, HouseholdPage, HouseholdPatch, HouseholdQuery,
};
use crate::api::{json_rejection, path_rejection};
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::extract::Params;
use crate::scope::{ListQuery, parse_filter, scoped_household};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde_json::{Map, Value};
use zhenxing_app::households::{HouseholdEdit, apply_edit, parse_reason};
use zhenxing_core::{Action, DivisionCode, Fen, Text};
use zhenxing_store::registry::RowMeta;
use zhenxing_store::{HouseholdRecord, Outcome};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn parse_limit(limit: Option<&str>) -> AppResult<u32> {
    // Absent means the default; present but empty is not an integer (the document's type).
    match limit.map(str::trim) {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::bad_request(
                    format!("参数limit须为1到{MAX_LIMIT}之间的整数"),
                    format!("parameter limit must be an integer from 1 to {MAX_LIMIT}"),
                )
            }),
    }
}

/// List and search households.
///
/// Households within the account's scope, in a stable order, a page at a time: pass the
/// page's `next_after` as `after` for the next one. `q` finds a member's name, a household
/// number or a full ID number.
#[utoipa::path(
    get,
    path = "/api/v1/households",
    tag = "registry",
    operation_id = "list_households",
    params(HouseholdQuery),
    responses(
        (status = 200, description = "A page of households", body = HouseholdPage),
        (status = 400, description = "An unknown parameter or a bad value", body = ApiError),
        (status = 401, description = "No valid token or session", body = ApiError),
        (status = 403, description = "The role may not read the registry", body = ApiError),
        (status = 404, description = "`division` is not a division within the account's scope", body = ApiError),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<HouseholdQuery>, AppError>,
) -> AppResult<Json<HouseholdPage>> {
    viewer.may(Action::ReadRegistry)?;
    // Who may ask is answered before what was asked: a role that may not see the page learns
    // nothing of its parameters.
    let Params(query) = params?;
    let limit = parse_limit(query.limit.as_deref())?;
    check_below(query.below.as_deref())?;
    // The document says `after` is an integer: in the API an empty value is an error, not
    // "absent" as it is for the HTML form that shares the filter parsing.
    if query.after.as_deref().is_some_and(|a| a.trim().is_empty()) {
        return Err(AppError::bad_request(
            "参数after须为整数",
            "parameter after must be an integer",
        ));
    }
    check_code("type", query.household_type.as_deref(), |c| {
        zhenxing_core::HouseholdType::from_code(c).is_some()
    })?;
    check_code("category", query.category.as_deref(), |c| {
        zhenxing_core::MonitoringCategory::from_code(c).is_some()
    })?;
    let list_query = ListQuery {
        division: query.division,
        household_type: query.household_type,
        category: query.category,
        below: query.below,
        q: query.q,
        after: query.after,
    };
    let (filter, after) = parse_filter(&viewer, &list_query)?;
    let page = state.db.household_page(&filter, after, limit).await?;
    Ok(Json(HouseholdPage {
        items: page.households.iter().map(HouseholdListItem::of).collect(),
        next_after: page.next_after,
    }))
}

async fn household_json(
    state: &AppState,
    record: &HouseholdRecord,
    meta: &RowMeta,
) -> AppResult<Household> {
    let village = match DivisionCode::parse(&record.division_code) {
        Ok(code) => state.db.division(&code).await?,
        Err(_) => None,
    };
    Ok(Household::of(record, meta, village.as_ref()))
}

/// One household with its members and incomes.
///
/// ID and phone numbers are masked. A household outside the account's scope answers 404,
/// exactly like a number that does not exist.
#[utoipa::path(
    get,
    path = "/api/v1/households/{no}",
    tag = "registry",
    operation_id = "get_household",
    params(("no" = String, Path, description = "Household number", example = "CK0001")),
    responses(
        (status = 200, description = "The household", body = Household),
        (status = 401, description = "No valid token or session", body = ApiError),
        (status = 403, description = "The role may not read the registry", body = ApiError),
        (status = 404, description = "No such household within the account's scope", body = ApiError),
    ),
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    no: Result<Path<String>, PathRejection>,
) -> AppResult<Json<Household>> {
    viewer.may(Action::ReadRegistry)?;
    let Path(no) = no.map_err(path_rejection)?;
    let (record, meta) = scoped_household(&state, &viewer, &no).await?;
    Ok(Json(household_json(&state, &record, &meta).await?))
}

/// Change a household.
///
/// The change is made from `version`: if the household has changed since, nothing is written
/// and the answer is 409. Only the fields given change. The monitoring category is the outcome
/// of the monitoring procedures: a patch that changes it is refused with 409. The change is checked by the
/// registry's rules, written through the audited write path with the reason, and the
/// household comes back as it now stands. Needs a bearer token of a role that may change the
/// registry (a browser session only reads the API).
#[utoipa::path(
    patch,
    path = "/api/v1/households/{no}",
    tag = "registry",
    operation_id = "patch_household",
    params(("no" = String, Path, description = "Household number", example = "CK0001")),
    request_body(content = HouseholdPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "Saved; the household as it now stands", body = Household),
        (status = 400, description = "Malformed JSON, a wrong content type, an unknown field or a bad value (the message names the field)", body = ApiError),
        (status = 401, description = "No valid token or session", body = ApiError),
        (status = 403, description = "The role may not change the registry, or the request came with a browser session", body = ApiError),
        (status = 404, description = "No such household within the account's scope", body = ApiError),
        (status = 409, description = "The household has changed since `version`, or the change would set the monitoring category (only the procedures change it), or another conflict with the registry; nothing was written", body = ApiError),
        (status = 413, description = "The body is too large", body = ApiError),
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    no: Result<Path<String>, PathRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> AppResult<Json<Household>> {
    viewer.account()?;
    // A session cookie is an ambient credential: writes take a token, which a page on
    // another site cannot send.
    if !viewer.via_api_token {
        return Err(AppError::Forbidden);
    }
    let account = viewer.may(Action::WriteRegistry)?.clone();
    let Path(no) = no.map_err(path_rejection)?;
    let (record, meta) = scoped_household(&state, &viewer, &no).await?;
    let Json(body) = body.map_err(json_rejection)?;
    let patch = parse_patch(body).map_err(refused)?;
    let reason = parse_reason(&patch.reason).map_err(AppError::BadRequest)?;
    if patch.version != meta.version {
        return Err(AppError::stale_since(patch.version, meta.version));
    }
    let updated = apply_edit(&record, &patched_form(&record, &patch)).map_err(refused)?;
    let saved = state
        .db
        .edit_household(&updated, patch.version, &account.name, "api", &reason)
        .await?;
    if matches!(saved, Outcome::Stale) {
        // Changed between the check above and the write: say what version it is at now.
        let (_, now) = scoped_household(&state, &viewer, &no).await?;
        return Err(AppError::stale_since(patch.version, now.version));
    }
    saved.done()?;
    let (record, meta) = scoped_household(&state, &viewer, &no).await?;
    Ok(Json(household_json(&state, &record, &meta).await?))
}

/// Every problem, each naming its field, in one 400.
fn refused(texts: Vec<Text>) -> AppError {
    let zh = texts.iter().map(|t| t.zh.as_str()).collect::<Vec<_>>();
    let en = texts.iter().map(|t| t.en.as_str()).collect::<Vec<_>>();
    AppError::BadRequest(Text::new(zh.join("；"), en.join("; ")))
}

/// The fields of a patch, with the name each is given in messages.
const PATCH_FIELDS: &[(&str, &str)] = &[
    ("version", "版本号"),
    ("reason", "修改原因"),
    ("wage_income", "工资性收入"),
    ("business_income", "生产经营性收入"),
    ("property_income", "财产性收入"),
    ("transfer_income", "转移性收入"),
    ("business_expense", "生产经营性支出"),
    ("out_of_pocket", "合规自付支出"),
    ("housing_safe", "住房是否安全"),
    ("water_safe", "饮水是否安全"),
    ("monitoring_category", "监测对象类别"),
    ("phone", "联系电话"),
    ("address", "住址"),
];

/// Reads a patch field by field, so that every problem names its field (serde's own
/// messages name a line and column, not the field).
struct Fields {
    map: Map<String, Value>,
    errors: Vec<Text>,
}

impl Fields {
    fn problem(&mut self, key: &str, zh: &str, en: &str) {
        let label = PATCH_FIELDS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, l)| l);
        self.errors.push(Text::new(
            format!("字段{key}（{label}）：{zh}"),
            format!("field {key}: {en}"),
        ));
    }

    fn required<T>(&mut self, key: &str, value: Option<T>) -> Option<T> {
        if value.is_none() && !self.map.contains_key(key) {
            self.problem(key, "必填", "is required");
        }
        value
    }

    fn integer(&mut self, key: &str) -> Option<i64> {
        match self.map.get(key) {
            None => None,
            Some(v) => match v.as_i64() {
                Some(n) => Some(n),
                None => {
                    self.problem(key, "须为整数", "must be an integer");
                    None
                }
            },
        }
    }

    fn fen(&mut self, key: &str) -> Option<i64> {
        match self.map.get(key) {
            None => None,
            Some(v) => match v.as_i64() {
                Some(n) if n >= 0 => Some(n),
                _ => {
                    self.problem(
                        key,
                        "须为非负整数（单位：分）",
                        "must be a non-negative integer (fen)",
                    );
                    None
                }
            },
        }
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.map.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.problem(key, "须为字符串", "must be a string");
                None
            }
        }
    }

    fn nullable_string(&mut self, key: &str) -> Option<Option<String>> {
        match self.map.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                self.problem(key, "须为字符串或null", "must be a string or null");
                None
            }
        }
    }

    fn nullable_bool(&mut self, key: &str) -> Option<Option<bool>> {
        match self.map.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                self.problem(key, "须为true、false或null", "must be true, false or null");
                None
            }
        }
    }
}

/// The patch in a JSON body: an object of known fields with values of the right types.
fn parse_patch(body: Value) -> Result<HouseholdPatch, Vec<Text>> {
    let Value::Object(map) = body else {
        return Err(vec![Text::new(
            "请求体须为JSON对象",
            "the request body must be a JSON object",
        )]);
    };
    let mut fields = Fields {
        map,
        errors: Vec::new(),
    };
    let unknown: Vec<String> = fields
        .map
        .keys()
        .filter(|k| !PATCH_FIELDS.iter().any(|(f, _)| f == k))
        .map(|k| k.chars().take(64).collect())
        .collect();
    for key in unknown {
        let allowed = PATCH_FIELDS
            .iter()
            .map(|(f, _)| *f)
            .collect::<Vec<_>>()
            .join(", ");
        fields.errors.push(Text::new(
            format!("未知字段“{key}”；可用字段：{allowed}"),
            format!("unknown field '{key}'; the fields are: {allowed}"),
        ));
    }
    let version = fields.integer("version");
    let version = fields.required("version", version);
    let reason = fields.string("reason");
    let reason = fields.required("reason", reason);
    let patch = HouseholdPatch {
        version: version.unwrap_or(0),
        reason: reason.unwrap_or_default(),
        wage_income: fields.fen("wage_income"),
        business_income: fields.fen("business_income"),
        property_income: fields.fen("property_income"),
        transfer_income: fields.fen("transfer_income"),
        business_expense: fields.fen("business_expense"),
        out_of_pocket: fields.fen("out_of_pocket"),
        housing_safe: fields.nullable_bool("housing_safe"),
        water_safe: fields.nullable_bool("water_safe"),
        monitoring_category: fields.nullable_string("monitoring_category"),
        phone: fields.nullable_string("phone"),
        address: fields.nullable_string("address"),
    };
    if fields.errors.is_empty() {
        Ok(patch)
    } else {
        Err(fields.errors)
    }
}

/// The household's edit with the patch laid over it; `apply_edit` then checks and applies it
/// exactly as it does for the edit page.
fn patched_form(record: &HouseholdRecord, patch: &HouseholdPatch) -> HouseholdEdit {
    let mut form = HouseholdEdit::from_record(record, patch.version);
    let yuan = |fen: i64| Fen(fen).to_string();
    let tri = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    if let Some(f) = patch.wage_income {
        form.wage = yuan(f);
    }
    if let Some(f) = patch.business_income {
        form.business = yuan(f);
    }
    if let Some(f) = patch.property_income {
        form.property = yuan(f);
    }
    if let Some(f) = patch.transfer_income {
        form.transfer = yuan(f);
    }
    if let Some(f) = patch.business_expense {
        form.business_expense = yuan(f);
    }
    if let Some(f) = patch.out_of_pocket {
        form.out_of_pocket = yuan(f);
    }
    if let Some(b) = patch.housing_safe {
        form.housing_safe = tri(b).to_owned();
    }
    if let Some(b) = patch.water_safe {
        form.water_safe = tri(b).to_owned();
    }
    if let Some(c) = &patch.monitoring_category {
        form.category = Some(text(c));
    }
    if let Some(p) = &patch.phone {
        form.phone = text(p);
    }
    if let Some(a) = &patch.address {
        form.address = text(a);
    }
    form.reason = patch.reason.clone();
    form
}

/// The API takes enumerations as their documented codes only (the pages also take labels).
fn check_code(name: &str, value: Option<&str>, known: fn(&str) -> bool) -> AppResult<()> {
    match value {
        Some(v) if !known(v) => Err(AppError::bad_request(
            format!("参数{name}的取值“{v}”不是文档所列的代码之一"),
            format!("parameter {name}: '{v}' is not one of the documented codes"),
        )),
        _ => Ok(()),
    }
}

/// The API takes `below` exactly as documented (digits, at most two decimals, under a billion
/// yuan), not the pages' lenient money forms (`¥1,234`, full-width digits): a machine interface
/// accepts what its contract says.
fn check_below(below: Option<&str>) -> AppResult<()> {
    let Some(b) = below.map(str::trim).filter(|b| !b.is_empty()) else {
        return Ok(());
    };
    let (int, frac) = b.split_once('.').unwrap_or((b, "0"));
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|c| c.is_ascii_digit())
    };
    if digits(int, 9) && digits(frac, 2) {
        Ok(())
    } else {
        Err(AppError::bad_request(
            format!("参数below须为不超过9位整数、最多两位小数的金额（元），这里是“{b}”"),
            format!(
                "parameter below must be an amount in yuan with at most 9 integer digits and two decimals, not '{b}'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_names_every_bad_field() {
        let errors = parse_patch(json!({
            "version": "3",
            "wage_income": -1,
            "housing_safe": "yes",
            "colour": "red",
        }))
        .unwrap_err();
        let en: Vec<&str> = errors.iter().map(|t| t.en.as_str()).collect();
        assert!(en.iter().any(|e| e.contains("unknown field 'colour'")));
        assert!(en.iter().any(|e| e.contains("field version")));
        assert!(en.iter().any(|e| e.contains("field wage_income")));
        assert!(en.iter().any(|e| e.contains("field housing_safe")));
        assert!(en.iter().any(|e| e.contains("field reason: is required")));
        assert!(parse_patch(json!([1, 2])).is_err());
    }

    #[test]
    fn absent_null_and_values_differ() {
        let patch = parse_patch(json!({
            "version": 2, "reason": "核实", "water_safe": null, "housing_safe": true,
            "phone": null, "wage_income": 150
        }))
        .unwrap();
        assert_eq!(patch.version, 2);
        assert_eq!(patch.water_safe, Some(None));
        assert_eq!(patch.housing_safe, Some(Some(true)));
        assert_eq!(patch.phone, Some(None));
        assert_eq!(patch.address, None);
        assert_eq!(patch.wage_income, Some(150));
        assert_eq!(parse_limit(None).unwrap(), 50);
        assert!(parse_limit(Some("0")).is_err());
        assert!(parse_limit(Some("201")).is_err());
        assert_eq!(parse_limit(Some("200")).unwrap(), 200);
    }
}
