use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
fn print() {}

#[licensed]
fn open() -> () {}

fn main() {
    print();
    open();
    let _: Result<(), LicenseError> = Ok(());
}
