//! The OpenStack catalog compiled into the library.

/// `catalog/openstack.yaml`: every fact in it cites its source in a comment.
pub(super) const OPENSTACK_YAML: &str = include_str!("../../catalog/openstack.yaml");

/// The configuration changes read from each project's own option definitions by
/// `scripts/oslo-config-fragments.py` (`ffu import oslo-config` over the wheels on `PyPI`),
/// merged into [`super::Catalog::openstack_with_config`] as `include:` fragments are.
pub(super) const CONFIG_FRAGMENTS: &[(&str, &str)] = &[
    (
        "<embedded catalog/config/keystone.yaml>",
        include_str!("../../catalog/config/keystone.yaml"),
    ),
    (
        "<embedded catalog/config/glance.yaml>",
        include_str!("../../catalog/config/glance.yaml"),
    ),
    (
        "<embedded catalog/config/placement.yaml>",
        include_str!("../../catalog/config/placement.yaml"),
    ),
    (
        "<embedded catalog/config/nova.yaml>",
        include_str!("../../catalog/config/nova.yaml"),
    ),
    (
        "<embedded catalog/config/neutron.yaml>",
        include_str!("../../catalog/config/neutron.yaml"),
    ),
    (
        "<embedded catalog/config/heat.yaml>",
        include_str!("../../catalog/config/heat.yaml"),
    ),
    (
        "<embedded catalog/config/ironic.yaml>",
        include_str!("../../catalog/config/ironic.yaml"),
    ),
];
