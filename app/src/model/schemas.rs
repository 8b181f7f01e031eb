//! The OpenAPI schemas of the wire types whose serde is written by hand, so the document says what their
//! JSON really is (a derive would describe the Rust type instead). Server builds only (`ssr`).

use std::borrow::Cow;

use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};

use super::{FolderPath, ImageEventType, MAX_BYTES, MAX_DEPTH, MAX_ID_LEN, NodeId, PoolId};

/// Letters, digits, `.`, `_`, `-`: what [`super::ids`] accepts.
fn id_schema(kind: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_ID_LEN))
        .pattern(Some(format!("^[A-Za-z0-9._-]{{1,{MAX_ID_LEN}}}$")))
        .description(Some(format!("A {kind} id: 1 to {MAX_ID_LEN} ASCII letters, digits, '.', '_' or '-'.")))
        .examples([format!("{kind}-1")])
        .into()
}

impl utoipa::PartialSchema for NodeId {
    fn schema() -> RefOr<Schema> {
        id_schema("node")
    }
}

impl utoipa::ToSchema for NodeId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NodeId")
    }
}

impl utoipa::PartialSchema for PoolId {
    fn schema() -> RefOr<Schema> {
        id_schema("pool")
    }
}

impl utoipa::ToSchema for PoolId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PoolId")
    }
}

impl utoipa::PartialSchema for FolderPath {
    fn schema() -> RefOr<Schema> {
        // The normalised form every answer carries. Requests are parsed more leniently (a missing leading
        // slash or a trailing one is fixed), and `..`, `.` and names with edge spaces are refused too.
        let segment = r#"[^/\\<>:"|?*\u0000-\u001f\u007f]+"#;
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_BYTES))
            .pattern(Some(format!("^/({segment}(/{segment}){{0,{}}})?$", MAX_DEPTH - 1)))
            .description(Some(format!(
                "A virtual folder: `/` or `/name/name…`, at most {MAX_DEPTH} levels and {MAX_BYTES} bytes; names \
                 hold none of / \\ < > : \" | ? *, no control, bidirectional or zero-width characters, and are not \
                 `.` or `..`."
            )))
            .examples(["/linux/ubuntu"])
            .into()
    }
}

impl utoipa::ToSchema for FolderPath {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FolderPath")
    }
}

impl utoipa::PartialSchema for ImageEventType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([1, 2, 3]))
            .description(Some("What happened to the image: 1 created, 2 updated, 3 deleted (the seed's integers)."))
            .into()
    }
}

impl utoipa::ToSchema for ImageEventType {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ImageEventType")
    }
}
