mod plugins;
fn main() {}
