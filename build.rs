// The migrations are embedded in the binary (`sqlx::migrate!`): a changed or new
// migration must rebuild it, as sqlx's documentation advises.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
