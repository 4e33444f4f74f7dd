// Under `#[tokio::main]` the gate sees tokio's blocking `fn`, and gates it as
// it would the `async fn`: a function that cannot carry a denial still needs
// a fallback, an async function (twin: the `ui_pass` test's `attribute_order`).
use license_gate::{licensed, requires_feature};

#[tokio::main(flavor = "current_thread")]
#[licensed]
async fn main() {}

#[tokio::main(flavor = "current_thread")]
#[requires_feature("pro")]
async fn count() -> u32 {
    1
}
