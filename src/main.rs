// mimalloc: JSON-LD processing (signing and verifying credentials) allocates and frees many
// small objects; with the system allocator half of its time went to malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(assay::cli::main());
}
