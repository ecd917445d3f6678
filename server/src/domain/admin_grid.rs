//! The operator's grid: a page of applications under a filter, in a chosen order, with the
//! counts per status, and the CSV export of the same filter (every page, up to
//! [`EXPORT_LIMIT`] rows).

use proto::admin::{AdminApplications, GridSort, StatusCount};
use proto::api::{ApplicationQuery, Page, page_or_last, page_size_or_default};
use proto::validate::FieldCode;
use proto::{CertStatus, Lang, Status};
use time::OffsetDateTime;

use super::{
    Actor, DomainError, DomainResult, Services, TAIPEI, parse_date, taipei_midnight, views,
};
use crate::db::admin_grid::{self, ExportRow};
use crate::db::applications::Search;

/// Rows one export may hold; a larger result asks the operator to narrow the filter.
pub const EXPORT_LIMIT: i64 = 100_000;

fn day(s: Option<&str>, field: &str) -> DomainResult<Option<time::Date>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(s)
            .map(Some)
            .ok_or_else(|| DomainError::field(field, FieldCode::Format)),
    }
}

/// The operator's filter as a search (dates are Taipei days, `to` inclusive).
fn search_of(q: &ApplicationQuery) -> DomainResult<Search> {
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let created_before = match day(q.to.as_deref(), "to")? {
        Some(d) => {
            Some(taipei_midnight(d.next_day().ok_or_else(|| {
                DomainError::field("to", FieldCode::Format)
            })?))
        }
        None => None,
    };
    Ok(Search {
        tax_id: text(&q.tax_id),
        number: text(&q.q),
        created_from: day(q.from.as_deref(), "from")?.map(taipei_midnight),
        created_before,
        app_type: q.app_type,
        status: q.status,
        ..Search::default()
    })
}

pub async fn list(
    svc: &Services,
    actor: &Actor,
    q: &ApplicationQuery,
    sort: GridSort,
    now: OffsetDateTime,
) -> DomainResult<AdminApplications> {
    let search = search_of(q)?;
    let mut conn = svc.db.conn().await?;
    let by_status = admin_grid::counts(&mut conn, &search).await?;
    let counts: Vec<StatusCount> = Status::ALL
        .iter()
        .map(|s| StatusCount {
            status: *s,
            count: by_status
                .iter()
                .find(|(st, _)| st == s)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    let total = match q.status {
        Some(s) => counts.iter().find(|c| c.status == s).map_or(0, |c| c.count),
        None => counts.iter().map(|c| c.count).sum(),
    };
    let page_size = page_size_or_default(q.page_size);
    let page = page_or_last(q.page, total, page_size);
    let offset = i64::from(page - 1) * i64::from(page_size);
    let rows = admin_grid::page(
        &mut conn,
        &search,
        sort.sort.unwrap_or_default(),
        sort.dir.unwrap_or_default(),
        i64::from(page_size),
        offset,
    )
    .await?;
    let t = now.unix_timestamp();
    let mut items = Vec::with_capacity(rows.len());
    for app in &rows {
        items.push(views::application_view(&mut conn, app, actor, t).await?);
    }
    Ok(AdminApplications {
        page: Page {
            items,
            page,
            page_size,
            total,
        },
        counts,
    })
}

/// The CSV of every row under the filter (UTF-8 with a BOM so spreadsheet programs read the
/// Chinese; times in Taipei).
pub async fn export_csv(
    svc: &Services,
    q: &ApplicationQuery,
    sort: GridSort,
    now: OffsetDateTime,
) -> DomainResult<String> {
    let search = search_of(q)?;
    let mut conn = svc.db.conn().await?;
    let rows = admin_grid::export(
        &mut conn,
        &search,
        sort.sort.unwrap_or_default(),
        sort.dir.unwrap_or_default(),
        EXPORT_LIMIT + 1,
    )
    .await?;
    if rows.len() as i64 > EXPORT_LIMIT {
        return Err(DomainError::Conflict(format!(
            "more than {EXPORT_LIMIT} applications match; narrow the filter (dates, status)"
        )));
    }
    Ok(to_csv(&rows, now.unix_timestamp()))
}

const HEADER: [&str; 12] = [
    "申請序號 Serial",
    "申請日期 Applied at",
    "統一編號 Tax ID",
    "公司名稱 Company",
    "申請類別 Type",
    "狀態 Status",
    "規費單號 Bill no.",
    "金額 Amount",
    "繳費狀態 Bill status",
    "繳費時間 Paid at",
    "憑證序號 Certificate serial",
    "憑證狀態 Certificate status",
];

fn to_csv(rows: &[ExportRow], now: i64) -> String {
    let mut out = String::from("\u{feff}");
    line(&mut out, HEADER.iter().map(|h| (*h).to_owned()));
    for r in rows {
        let cert_status = r.cert_status.map(|s| match (s, r.not_after) {
            (CertStatus::Valid | CertStatus::Suspended, Some(end)) if now >= end => {
                CertStatus::Expired
            }
            (s, _) => s,
        });
        line(
            &mut out,
            [
                r.serial.clone(),
                taipei_time(r.created_at),
                r.tax_id.clone(),
                r.company_name.clone(),
                r.app_type.label(Lang::ZhTw).to_owned(),
                format!("{} {}", r.status.code(), r.status.label(Lang::ZhTw)),
                r.bill_no.clone().unwrap_or_default(),
                r.amount.map(|a| a.to_string()).unwrap_or_default(),
                r.bill_status
                    .map(|s| s.label(Lang::ZhTw).to_owned())
                    .unwrap_or_default(),
                r.paid_at.map(taipei_time).unwrap_or_default(),
                r.cert_serial.clone().unwrap_or_default(),
                cert_status
                    .map(|s| s.label(Lang::ZhTw).to_owned())
                    .unwrap_or_default(),
            ],
        );
    }
    out
}

/// `2018/11/19 10:39:29`, as the manual's grid writes 申請日期.
pub fn taipei_time(t: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => {
            let d = d.to_offset(TAIPEI);
            format!(
                "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            )
        }
        Err(_) => t.to_string(),
    }
}

fn line(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().map(|c| cell(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// RFC 4180 quoting, and a leading apostrophe on text a spreadsheet would run as a formula.
fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("大同報關"), "大同報關");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn times_are_taipei() {
        // 2018-11-19 02:39:29 UTC is 10:39:29 in Taipei.
        assert_eq!(taipei_time(1_542_595_169), "2018/11/19 10:39:29");
    }
}
