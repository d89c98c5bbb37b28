//! `ffu schema catalog|inventory|plan`: the JSON Schema of a document.

use clap::Args;

use super::{emit, Failure};

#[derive(Debug, Args)]
pub(super) struct SchemaArgs {
    /// The document whose JSON Schema to print.
    #[arg(value_parser = ffu_core::schema::DOCUMENTS)]
    document: String,
}

pub(super) fn schema(args: &SchemaArgs) -> Result<(), Failure> {
    let text = ffu_core::schema::schema(&args.document)
        .ok_or_else(|| Failure::BadInput(format!("error: no schema for {:?}", args.document)))?;
    emit(None, |out| out.write_all(text.as_bytes()))
}
