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

/// The per-revision migrations read from each project's alembic histories by
/// `scripts/alembic-fragments.py` (`ffu import alembic` over the wheels on `PyPI`, DESIGN
/// §12), merged into [`super::Catalog::openstack`] as `include:` fragments are: each folds
/// into the catalog's own step of its service, release, kind and command.
pub(super) const REVISION_FRAGMENTS: &[(&str, &str)] = &[
    (
        "<embedded catalog/revisions/keystone.json>",
        include_str!("../../catalog/revisions/keystone.json"),
    ),
    (
        "<embedded catalog/revisions/glance.json>",
        include_str!("../../catalog/revisions/glance.json"),
    ),
    (
        "<embedded catalog/revisions/cinder.json>",
        include_str!("../../catalog/revisions/cinder.json"),
    ),
    (
        "<embedded catalog/revisions/placement.json>",
        include_str!("../../catalog/revisions/placement.json"),
    ),
    (
        "<embedded catalog/revisions/nova.json>",
        include_str!("../../catalog/revisions/nova.json"),
    ),
    (
        "<embedded catalog/revisions/neutron.json>",
        include_str!("../../catalog/revisions/neutron.json"),
    ),
    (
        "<embedded catalog/revisions/heat.json>",
        include_str!("../../catalog/revisions/heat.json"),
    ),
    (
        "<embedded catalog/revisions/ironic.json>",
        include_str!("../../catalog/revisions/ironic.json"),
    ),
];
