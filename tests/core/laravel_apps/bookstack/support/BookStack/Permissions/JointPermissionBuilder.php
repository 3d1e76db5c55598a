<?php
namespace BookStack\Permissions;
// BookStack rebuilds its joint_permissions cache here; on a fresh install there is no
// entity to build it for, so a new database needs no row.
class JointPermissionBuilder { public function rebuildForAll(): void {} }
