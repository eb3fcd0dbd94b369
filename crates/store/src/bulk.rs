//! Bulk inserts, the one place where the two backends load rows differently. Rows are gathered
//! column by column, text in one buffer per column, so that pushing a row allocates nothing and
//! both paths read the same batch:
//!
//! - SQLite runs one prepared single-row `INSERT` per row on the transaction's own connection
//!   ([`crate::sqlite_direct`]), binding each value straight from the batch: no SQL text per
//!   statement, no re-preparation, no per-value allocation, no hop to sqlx's worker thread.
//! - PostgreSQL takes one array per column through `UNNEST`, which avoids both the parameter
//!   limit and per-row statements.

use crate::keys::SealedColumn;
use crate::{Result, StoreError, Tx};
use rayon::prelude::*;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Copy)]
pub enum ColType {
    Text,
    Int,
    Bool,
    /// Text pushed in plaintext and sealed for its column when the batch is flushed
    /// ([`crate::keys`]), on every core: a full-scale load seals millions of values.
    Sealed(&'static SealedColumn),
    /// The blind index of the ID number pushed (in plaintext) to the column at this position;
    /// the row pushes `None` here and the flush fills it.
    IdNumberIndexOf(usize),
}

impl ColType {
    fn pg_array(self) -> &'static str {
        match self {
            ColType::Text | ColType::Sealed(_) | ColType::IdNumberIndexOf(_) => "text[]",
            ColType::Int => "int8[]",
            ColType::Bool => "bool[]",
        }
    }
}

/// The values of one column. Text values live in one buffer; `spans` gives each row's byte
/// range in it, or `None` for NULL.
pub enum Column {
    Text {
        data: String,
        spans: Vec<Option<(usize, usize)>>,
    },
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl Column {
    fn clear(&mut self) {
        match self {
            Column::Text { data, spans } => {
                data.clear();
                spans.clear();
            }
            Column::Int(v) => v.clear(),
            Column::Bool(v) => v.clear(),
        }
    }

    /// The text of row `i` of a text column.
    pub(crate) fn text_at(&self, i: usize) -> Option<&str> {
        match self {
            Column::Text { data, spans } => spans
                .get(i)
                .copied()
                .flatten()
                .and_then(|(a, b)| data.get(a..b)),
            _ => None,
        }
    }
}

/// Rows for one table, stored column by column.
pub struct Batch {
    table: &'static str,
    names: &'static [(&'static str, ColType)],
    columns: Vec<Column>,
    rows: usize,
}

impl Batch {
    pub fn new(table: &'static str, names: &'static [(&'static str, ColType)]) -> Batch {
        let columns = names
            .iter()
            .map(|(_, t)| match t {
                ColType::Text | ColType::Sealed(_) | ColType::IdNumberIndexOf(_) => Column::Text {
                    data: String::new(),
                    spans: Vec::new(),
                },
                ColType::Int => Column::Int(Vec::new()),
                ColType::Bool => Column::Bool(Vec::new()),
            })
            .collect();
        Batch {
            table,
            names,
            columns,
            rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    /// Starts a row; the caller then pushes one value per column, in order.
    pub fn row(&mut self) -> RowWriter<'_> {
        self.rows += 1;
        RowWriter {
            batch: self,
            next: 0,
        }
    }

    fn column_list(&self) -> String {
        self.names
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Inserts every row and empties the batch, keeping its buffers for the next rows.
    pub async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        self.seal()?;
        let cols = self.column_list();
        match tx {
            Tx::Sqlite(t) => {
                let placeholders = (1..=self.names.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(",");
                // Built from static table and column names only; every value is bound.
                let sql = format!(
                    "INSERT INTO {} ({cols}) VALUES ({placeholders})",
                    self.table
                );
                let mut handle = t.lock_handle().await?;
                crate::sqlite_direct::insert_rows(&mut handle, &sql, &self.columns, self.rows)?;
            }
            Tx::Postgres(t) => {
                let unnest = self
                    .names
                    .iter()
                    .enumerate()
                    .map(|(i, (_, ty))| format!("${}::{}", i + 1, ty.pg_array()))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO {} ({cols}) SELECT * FROM UNNEST({unnest})",
                    self.table
                );
                // One statement per flush: callers flush every few tens of thousands of rows.
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for column in &self.columns {
                    query = match column {
                        Column::Text { spans, .. } => query.bind(
                            (0..spans.len())
                                .map(|i| column.text_at(i))
                                .collect::<Vec<Option<&str>>>(),
                        ),
                        Column::Int(v) => query.bind(v.as_slice()),
                        Column::Bool(v) => query.bind(v.as_slice()),
                    };
                }
                query.execute(&mut **t).await?;
            }
        }
        self.rows = 0;
        self.columns.iter_mut().for_each(Column::clear);
        Ok(())
    }
}

impl Batch {
    /// Replaces the plaintext of the sealed columns by their sealed values and fills the blind
    /// index columns, in parallel. Indexes first: they are made from the plaintext.
    fn seal(&mut self) -> Result<()> {
        let work: Vec<(usize, ColType)> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, (_, t))| matches!(t, ColType::Sealed(_) | ColType::IdNumberIndexOf(_)))
            .map(|(i, (_, t))| (i, *t))
            .collect();
        if work.is_empty() {
            return Ok(());
        }
        let (ring, _) = crate::keys::current().ok_or_else(|| {
            StoreError::Corrupt(format!("no key ring to seal the rows of {}", self.table))
        })?;
        let rows = self.rows;
        let mut ordered = work;
        ordered.sort_by_key(|(_, t)| matches!(t, ColType::Sealed(_)));
        for (i, ty) in ordered {
            let (source, make): (usize, &(dyn Fn(&str) -> String + Sync)) = match ty {
                ColType::IdNumberIndexOf(of) => (of, &|v: &str| {
                    ring.blind_index(crate::keys::ID_NUMBER_INDEX, v)
                }),
                ColType::Sealed(column) => (i, &|v: &str| ring.seal_field(column.context, v)),
                _ => continue,
            };
            let values: Vec<Option<String>> = {
                let column = &self.columns[source];
                (0..rows)
                    .into_par_iter()
                    .map(|r| column.text_at(r).map(make))
                    .collect()
            };
            let mut data = String::with_capacity(values.iter().flatten().map(String::len).sum());
            let spans = values
                .iter()
                .map(|v| {
                    v.as_ref().map(|v| {
                        let start = data.len();
                        data.push_str(v);
                        (start, data.len())
                    })
                })
                .collect();
            self.columns[i] = Column::Text { data, spans };
        }
        Ok(())
    }
}

pub struct RowWriter<'a> {
    batch: &'a mut Batch,
    next: usize,
}

impl RowWriter<'_> {
    pub fn text(mut self, value: Option<impl AsRef<str>>) -> Self {
        if let Column::Text { data, spans } = &mut self.batch.columns[self.next] {
            spans.push(value.map(|v| {
                let start = data.len();
                data.push_str(v.as_ref());
                (start, data.len())
            }));
        } else {
            panic!("column {} of {} is not text", self.next, self.batch.table);
        }
        self.next += 1;
        self
    }

    pub fn int(mut self, value: Option<i64>) -> Self {
        if let Column::Int(v) = &mut self.batch.columns[self.next] {
            v.push(value);
        } else {
            panic!(
                "column {} of {} is not an integer",
                self.next, self.batch.table
            );
        }
        self.next += 1;
        self
    }

    pub fn bool(mut self, value: Option<bool>) -> Self {
        if let Column::Bool(v) = &mut self.batch.columns[self.next] {
            v.push(value);
        } else {
            panic!(
                "column {} of {} is not a boolean",
                self.next, self.batch.table
            );
        }
        self.next += 1;
        self
    }
}
