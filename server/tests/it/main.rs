//! Integration tests: one binary (ripgrep's habit), a module per area. Each test spawns what it needs on
//! port 0 with temporary directories; logs stay quiet unless TEST_LOG is set.

mod support;

mod api_fuzz;
mod auth;
mod content;
mod copy;
mod download;
mod durability;
mod fault_suite;
mod grouping;
mod hostile;
mod library_upload;
mod node_api;
mod node_upload;
mod node_watcher;
mod openapi;
mod operations;
mod replicas;
mod sync_convergence;
mod sync_digest;
mod sync_processes;
mod tls;
mod tus_upload;
mod vdc_catalogue;
mod vdc_model;
mod vdc_vms;
