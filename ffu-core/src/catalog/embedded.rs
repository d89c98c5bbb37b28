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
        "<embedded catalog/revisions/keystone.yaml>",
        include_str!("../../catalog/revisions/keystone.yaml"),
    ),
    (
        "<embedded catalog/revisions/glance.yaml>",
        include_str!("../../catalog/revisions/glance.yaml"),
    ),
    (
        "<embedded catalog/revisions/cinder.yaml>",
        include_str!("../../catalog/revisions/cinder.yaml"),
    ),
    (
        "<embedded catalog/revisions/placement.yaml>",
        include_str!("../../catalog/revisions/placement.yaml"),
    ),
    (
        "<embedded catalog/revisions/nova.yaml>",
        include_str!("../../catalog/revisions/nova.yaml"),
    ),
    (
        "<embedded catalog/revisions/neutron.yaml>",
        include_str!("../../catalog/revisions/neutron.yaml"),
    ),
    (
        "<embedded catalog/revisions/heat.yaml>",
        include_str!("../../catalog/revisions/heat.yaml"),
    ),
    (
        "<embedded catalog/revisions/ironic.yaml>",
        include_str!("../../catalog/revisions/ironic.yaml"),
    ),
];
