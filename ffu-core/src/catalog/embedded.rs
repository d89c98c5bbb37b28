//! The OpenStack catalog compiled into the library.

/// `catalog/openstack.yaml`: every fact in it cites its source in a comment.
pub(super) const OPENSTACK_YAML: &str = include_str!("../../catalog/openstack.yaml");
