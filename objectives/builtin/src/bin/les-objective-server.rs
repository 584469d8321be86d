//! A stand-alone server for isolated library objectives (see `les_objectives::isolated`), for
//! hosts whose own executable cannot serve: `isolated::set_server_command([this binary])`.

fn main() {
    std::process::exit(les_objectives::isolated::serve());
}
