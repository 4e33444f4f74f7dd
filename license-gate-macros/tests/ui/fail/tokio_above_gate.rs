use license_gate::{licensed, requires_feature};

#[tokio::main(flavor = "current_thread")]
#[licensed(fallback = closed)]
async fn main() {}

async fn closed() {}

#[tokio::test]
#[requires_feature("pro", fallback = skip)]
async fn gated_test() {}

async fn skip() {}
