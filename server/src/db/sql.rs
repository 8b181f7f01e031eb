//! A small SQL builder for the `Any` driver: it numbers placeholders `$1, $2, …`, which both SQLite and
//! PostgreSQL accept (sqlx's own `QueryBuilder<Any>` writes `?`, which PostgreSQL does not).

use std::fmt::Write;

use sqlx::{
    Any, Arguments, Encode, Executor, FromRow, Type,
    any::{AnyArguments, AnyQueryResult, AnyRow},
};

#[derive(Default)]
pub struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self { text: text.to_owned(), ..Default::default() }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        self.count += 1;
        write!(self.text, "${}", self.count).expect("writing to a String");
        self.args.add(value).expect("encoding into AnyArguments");
        self
    }

    /// Appends `(v1, v2, …)` for a list of values (`IN` lists, tuples).
    pub fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")")
    }

    pub async fn execute<'e, E: Executor<'e, Database = Any>>(self, e: E) -> Result<AnyQueryResult, sqlx::Error> {
        sqlx::query_with(&self.text, self.args).execute(e).await
    }

    pub async fn fetch_all<'e, R, E>(self, e: E) -> Result<Vec<R>, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        sqlx::query_as_with(&self.text, self.args).fetch_all(e).await
    }
}
