//! Bulk inserts, the one place where the two backends load rows differently: SQLite takes
//! multi-row `VALUES` lists (up to its 32,766 bound parameters per statement), PostgreSQL takes
//! one array per column through `UNNEST`, which avoids both the parameter limit and per-row
//! statements. Rows are gathered column by column so that both paths read the same batch.

use crate::{Result, Tx};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Copy)]
pub enum ColType {
    Text,
    Int,
    Bool,
}

impl ColType {
    fn pg_array(self) -> &'static str {
        match self {
            ColType::Text => "text[]",
            ColType::Int => "int8[]",
            ColType::Bool => "bool[]",
        }
    }
}

pub enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
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
                ColType::Text => Column::Text(Vec::new()),
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

    /// Inserts every row and empties the batch. Values are moved into the statements, never
    /// copied: bulk loads are bound by allocation as much as by SQLite.
    pub async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let cols = self
            .names
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ");
        let rows = std::mem::take(&mut self.rows);
        let columns: Vec<Column> = self
            .columns
            .iter_mut()
            .map(|c| match c {
                Column::Text(v) => Column::Text(std::mem::take(v)),
                Column::Int(v) => Column::Int(std::mem::take(v)),
                Column::Bool(v) => Column::Bool(std::mem::take(v)),
            })
            .collect();
        match tx {
            Tx::Sqlite(t) => {
                let per_statement = (32_000 / self.names.len()).min(2_000);
                let mut iters: Vec<ColumnIter> = columns.into_iter().map(ColumnIter::new).collect();
                let mut start = 0;
                while start < rows {
                    let end = (start + per_statement).min(rows);
                    let placeholders = format!("({})", vec!["?"; self.names.len()].join(","));
                    let sql = format!(
                        "INSERT INTO {} ({cols}) VALUES {}",
                        self.table,
                        vec![placeholders.as_str(); end - start].join(",")
                    );
                    // The statement is built from static table and column names only; every
                    // value is bound.
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for _ in start..end {
                        for column in iters.iter_mut() {
                            query = match column {
                                ColumnIter::Text(v) => query.bind(v.next().flatten()),
                                ColumnIter::Int(v) => query.bind(v.next().flatten()),
                                ColumnIter::Bool(v) => query.bind(v.next().flatten()),
                            };
                        }
                    }
                    query.execute(&mut **t).await?;
                    start = end;
                }
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
                for column in columns {
                    query = match column {
                        Column::Text(v) => query.bind(v),
                        Column::Int(v) => query.bind(v),
                        Column::Bool(v) => query.bind(v),
                    };
                }
                query.execute(&mut **t).await?;
            }
        }
        Ok(())
    }
}

enum ColumnIter {
    Text(std::vec::IntoIter<Option<String>>),
    Int(std::vec::IntoIter<Option<i64>>),
    Bool(std::vec::IntoIter<Option<bool>>),
}

impl ColumnIter {
    fn new(column: Column) -> ColumnIter {
        match column {
            Column::Text(v) => ColumnIter::Text(v.into_iter()),
            Column::Int(v) => ColumnIter::Int(v.into_iter()),
            Column::Bool(v) => ColumnIter::Bool(v.into_iter()),
        }
    }
}

pub struct RowWriter<'a> {
    batch: &'a mut Batch,
    next: usize,
}

impl RowWriter<'_> {
    pub fn text(mut self, value: Option<impl Into<String>>) -> Self {
        if let Column::Text(v) = &mut self.batch.columns[self.next] {
            v.push(value.map(Into::into));
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
