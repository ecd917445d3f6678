//! A small builder for queries with optional filters: numbers the `$n` placeholders and keeps
//! the values to bind in the same order.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Int(i64),
}

#[derive(Debug, Default)]
pub struct Filter {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Filter {
    /// Adds a clause; each `?` in `clause` becomes the next `$n` and takes one value.
    pub fn push(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        let mut out = String::new();
        let mut values = values.into_iter();
        for ch in clause.chars() {
            if ch == '?' {
                if let Some(v) = values.next() {
                    self.values.push(v);
                }
                out.push_str(&format!("${}", self.values.len()));
            } else {
                out.push(ch);
            }
        }
        self.clauses.push(out);
    }

    /// The placeholder the next bound value will get (for LIMIT etc. after the filter).
    pub fn bind_next(&mut self, v: Value) -> String {
        self.values.push(v);
        format!("${}", self.values.len())
    }

    /// ` WHERE a AND b` or an empty string.
    pub fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub fn bind<'q>(
        &self,
        mut q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        for v in &self.values {
            q = match v {
                Value::Text(s) => q.bind(s.clone()),
                Value::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut f = Filter::default();
        assert_eq!(f.where_clause(), "");
        f.push("a.tax_id = ?", [Value::Text("1".into())]);
        f.push(
            "(a.serial = ? OR b.bill_no = ?)",
            [Value::Text("x".into()), Value::Text("x".into())],
        );
        let limit = f.bind_next(Value::Int(10));
        assert_eq!(
            f.where_clause(),
            " WHERE a.tax_id = $1 AND (a.serial = $2 OR b.bill_no = $3)"
        );
        assert_eq!(limit, "$4");
    }
}
