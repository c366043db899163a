/** Studio roles, from least to most privileged. */
export enum Role {
  Viewer = 'viewer',
  Editor = 'editor',
  Admin = 'admin',
}

export const ROLE_RANK: Record<Role, number> = {
  [Role.Viewer]: 0,
  [Role.Editor]: 1,
  [Role.Admin]: 2,
};

export const ALL_ROLES: readonly Role[] = [Role.Viewer, Role.Editor, Role.Admin];

/** True when `role` grants at least what `required` asks for. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}
