//! Who may do what, where: the access policy, decided here once and asked by every front end.
//!
//! An account has one role and one division. It sees and acts only on records whose division
//! lies under its own ([`Scope::contains`]); outside it, a record answers as if it did not exist.
//! What each role may do is [`Role::may`]: separation of duties (SECURITY.md, 三员分立) means
//! three administrators, none of whom can act as another: the system administrator
//! (`municipal_admin`) configures the system, the security administrator manages accounts and
//! the password and session policy, the auditor reads the audit trail and nothing else. Nobody
//! can change the audit trail, and the operators cannot manage accounts.

use crate::division::DivisionCode;
use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::text;

labelled_enum!(
    /// The roles of the people who use zhenxing (issue 3).
    Role, "角色", "role", [
    // The code stays `municipal_admin` (databases before issue 15 keep working); since the
    // three administrators were separated it is the system administrator.
    (MunicipalAdmin, "municipal_admin", "系统管理员", "system administrator"),
    (SecurityAdmin, "security_admin", "安全管理员", "security administrator"),
    (CountyOfficer, "county_officer", "区县工作人员", "county officer"),
    (TownshipOfficer, "township_officer", "乡镇工作人员", "township officer"),
    (VillageCadre, "village_cadre", "村干部", "village cadre"),
    (Auditor, "auditor", "审计人员", "auditor"),
    (DepartmentOfficer, "department_officer", "行业部门人员", "department officer"),
]);

/// Things an account may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Lists, search, household pages, divisions and figures.
    ReadRegistry,
    /// Edit households, add and remove members, import registry files.
    WriteRegistry,
    /// Export registry files (personal data leaves the system: audited).
    ExportRegistry,
    /// See full ID and phone numbers instead of masked ones (every reveal is audited).
    RevealPersonalNumbers,
    /// Read and export the audit trail.
    ReadAudit,
    /// Create, disable and change the operators' accounts, reset their passwords and second
    /// factors, lift lockouts, and set the password and session policy.
    ManageAccounts,
    /// Upload other departments' data (issue 4).
    UploadDepartmentData,
    /// See the monitoring rule sets, every version and parameter (no personal data).
    ReadRuleSets,
    /// Save a new version of a rule set (versions are never edited).
    ManageRuleSets,
    /// Start a re-screening of the registry, within the account's division.
    RunScreening,
    /// Try another threshold over the registry within the account's division (writes nothing).
    WhatIf,
    /// Read identification and elimination cases, their steps and notices (issue 5).
    ReadCases,
    /// Open cases and take the steps of the procedures that the role's level takes
    /// (`core::procedure` says which step belongs to which role).
    WorkCases,
    /// Pair responsible cadres with households and record assistance measures.
    ManageAssistance,
    /// Change the deployment's settings (the procedures' time limits).
    ManageSettings,
    /// Write, translate, schedule, publish and withdraw the public portal's announcements and
    /// policy documents, and designate the officers who read reports about a person (issue 7).
    ManagePortal,
    /// Read the tickets of the public line (questions, reports, complaints, suggestions) of
    /// the account's division; reports about a person also need `portal::may_read_person_report`.
    ReadTickets,
    /// Assign, answer and close tickets.
    WorkTickets,
}

impl Role {
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            // The auditor reads the audit trail and nothing else (三员分立): what an entry
            // names, it reads in the entry; the security administrator reads no registry data.
            ReadRegistry => matches!(
                self,
                MunicipalAdmin | CountyOfficer | TownshipOfficer | VillageCadre
            ),
            WriteRegistry => matches!(
                self,
                MunicipalAdmin | CountyOfficer | TownshipOfficer | VillageCadre
            ),
            // Exports and full numbers are for the officers who work cases at county and
            // township level; a village cadre works with the people themselves and needs
            // neither in the system.
            ExportRegistry => matches!(self, MunicipalAdmin | CountyOfficer | TownshipOfficer),
            RevealPersonalNumbers => {
                matches!(self, MunicipalAdmin | CountyOfficer | TownshipOfficer)
            }
            ReadAudit => matches!(self, Auditor),
            ManageAccounts => matches!(self, SecurityAdmin),
            UploadDepartmentData => matches!(self, DepartmentOfficer | MunicipalAdmin),
            // Monitoring (issue 4). The rules are set for the municipality: only its
            // administrator saves a new version. A re-screen writes warnings for the whole
            // registry or one county, and a county bureau answers for finding every household
            // at risk in its county, so county officers may re-screen their own county (the
            // scope limits the run to it); a township would only repeat part of the county's
            // run. What-if writes nothing and shows counts and household numbers (no ID
            // numbers), which county and township officers plan with. Village cadres and
            // department officers work with warnings and uploads, not with the rules.
            ReadRuleSets => matches!(self, MunicipalAdmin | CountyOfficer | TownshipOfficer),
            ManageRuleSets => matches!(self, MunicipalAdmin),
            RunScreening => matches!(self, MunicipalAdmin | CountyOfficer),
            WhatIf => matches!(self, MunicipalAdmin | CountyOfficer | TownshipOfficer),
            // Procedures (issue 5). The steps belong to the village, the township and the
            // county (DOMAIN.md 1.7); the system administrator configures and takes no step
            // in a case, so that nobody both configures the system and decides who is
            // monitored.
            ReadCases => matches!(
                self,
                MunicipalAdmin | CountyOfficer | TownshipOfficer | VillageCadre
            ),
            WorkCases | ManageAssistance => {
                matches!(self, CountyOfficer | TownshipOfficer | VillageCadre)
            }
            ManageSettings => matches!(self, MunicipalAdmin),
            // The public portal (issue 7). The administrator publishes for the bureau. The line
            // is handled where the matter lies ("分级受理、属地管理", DOMAIN.md 5.6): county
            // and township officers answer their division's tickets; nobody else, since
            // complaints and reports may name the people handling them.
            ManagePortal => matches!(self, MunicipalAdmin),
            ReadTickets => matches!(self, CountyOfficer | TownshipOfficer),
            WorkTickets => matches!(self, CountyOfficer | TownshipOfficer),
        }
    }

    /// One of the three administrators (三员分立): the system administrator, the security
    /// administrator and the auditor. Their accounts are made and reset only by the
    /// operating-system operator (`zhenxing user`), and they must sign in with a second factor.
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            Role::MunicipalAdmin | Role::SecurityAdmin | Role::Auditor
        )
    }

    /// Whether this role checks the work of `other` (so that `other` must not be able to act
    /// as it). The auditor checks every other role; each of the three administrators checks
    /// the other two (the security administrator sees what the system administrator may not
    /// do to accounts, the system administrator what the security administrator may not do to
    /// the system).
    pub fn checks(self, other: Role) -> bool {
        match self {
            Role::Auditor => other != Role::Auditor,
            _ => self.is_administrator() && other.is_administrator() && self != other,
        }
    }

    /// Whether an account of this role may set the password of (or create, or reset the second
    /// factor of) an account of `target`. Whoever knows an account's password can act as it:
    /// the security administrator manages the operators' accounts only, and the three
    /// administrators' accounts are the operating-system operator's (`zhenxing user`), so
    /// that none of the three can act as another or as itself under a second account.
    pub fn may_set_password_of(self, target: Role) -> bool {
        self.may(Action::ManageAccounts) && !target.is_administrator() && !target.checks(self)
    }

    /// Whether an account of this role must sign in with a second factor whatever the policy.
    pub fn requires_second_factor(self) -> bool {
        self.is_administrator()
    }

    /// The division level an account of this role is attached to, from the municipality down.
    pub fn fits_division(self, division: &DivisionCode) -> Result<(), Text> {
        use crate::division::DivisionLevel as L;
        let level = division.level();
        let ok = match self {
            Role::MunicipalAdmin | Role::Auditor | Role::DepartmentOfficer => {
                matches!(level, L::Province | L::County)
            }
            // Accounts of the whole municipality are the security administrator's.
            Role::SecurityAdmin => level == L::Province,
            Role::CountyOfficer => level == L::County,
            Role::TownshipOfficer => level == L::Township,
            Role::VillageCadre => level == L::Village,
        };
        if ok {
            Ok(())
        } else {
            let (zh, en) = (self.zh(), self.en());
            let code = division.as_str();
            Err(text!(
                "{zh}不能归属于区划{code}（级别不符：区县工作人员属区县，乡镇工作人员属乡镇，村干部属村）",
                "a {en} cannot belong to division {code} (wrong level: county officers belong to a county, township officers to a township, village cadres to a village)"
            ))
        }
    }
}

/// The part of the registry an account works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    division: DivisionCode,
}

impl Scope {
    pub fn new(division: DivisionCode) -> Scope {
        Scope { division }
    }

    pub fn division(&self) -> &DivisionCode {
        &self.division
    }

    /// Whether a record in `division` lies inside the scope.
    pub fn contains(&self, division: &DivisionCode) -> bool {
        division.is_within(&self.division)
    }

    /// Same as [`Scope::contains`] for a stored code; an unparsable code is outside.
    pub fn contains_code(&self, code: &str) -> bool {
        DivisionCode::parse(code).is_ok_and(|d| self.contains(&d))
    }

    /// The `LIKE` prefix that selects the scope's records by division code.
    pub fn like_pattern(&self) -> String {
        format!("{}%", self.division.prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn scope_is_a_prefix_of_the_division_code() {
        let county = Scope::new(code("500229000000"));
        assert!(county.contains(&code("500229100201")));
        assert!(!county.contains(&code("500230100201")));
        let village = Scope::new(code("500229100201"));
        assert!(village.contains(&code("500229100201")));
        assert!(!village.contains(&code("500229100202")));
        let city = Scope::new(code("500000000000"));
        assert!(city.contains(&code("500229100201")));
        assert!(!county.contains_code("not a code"));
    }

    #[test]
    fn separation_of_duties() {
        assert!(!Role::Auditor.may(Action::WriteRegistry));
        assert!(Role::Auditor.may(Action::ReadAudit));
        assert!(!Role::CountyOfficer.may(Action::ReadAudit));
        assert!(!Role::CountyOfficer.may(Action::ManageAccounts));
        assert!(!Role::DepartmentOfficer.may(Action::ReadRegistry));
        assert!(!Role::VillageCadre.may(Action::RevealPersonalNumbers));
        assert!(!Role::MunicipalAdmin.may(Action::ManageAccounts));
        assert!(Role::SecurityAdmin.may(Action::ManageAccounts));
    }

    #[test]
    fn three_administrators_are_separate() {
        use Role::*;
        let who = |action: Action| -> Vec<Role> {
            Role::ALL
                .iter()
                .copied()
                .filter(|r| r.may(action))
                .collect()
        };
        assert_eq!(who(Action::ReadAudit), vec![Auditor]);
        assert_eq!(who(Action::ManageAccounts), vec![SecurityAdmin]);
        // The auditor reads the audit trail and nothing else.
        let actions = [
            Action::ReadRegistry,
            Action::WriteRegistry,
            Action::ExportRegistry,
            Action::RevealPersonalNumbers,
            Action::ManageAccounts,
            Action::UploadDepartmentData,
            Action::ReadRuleSets,
            Action::ManageRuleSets,
            Action::RunScreening,
            Action::WhatIf,
            Action::ReadCases,
            Action::WorkCases,
            Action::ManageAssistance,
            Action::ManageSettings,
            Action::ManagePortal,
            Action::ReadTickets,
            Action::WorkTickets,
        ];
        for action in actions {
            assert!(!Auditor.may(action), "auditor {action:?}");
            if action != Action::ManageAccounts {
                assert!(
                    !SecurityAdmin.may(action),
                    "security administrator {action:?}"
                );
            }
        }
        // None sets the password of another, nor of itself under a second account.
        for role in [MunicipalAdmin, SecurityAdmin, Auditor] {
            assert!(role.requires_second_factor());
            for target in [MunicipalAdmin, SecurityAdmin, Auditor] {
                assert!(!role.may_set_password_of(target), "{role:?} {target:?}");
            }
        }
        for operator in [
            CountyOfficer,
            TownshipOfficer,
            VillageCadre,
            DepartmentOfficer,
        ] {
            assert!(SecurityAdmin.may_set_password_of(operator));
            assert!(!operator.requires_second_factor());
        }
    }

    #[test]
    fn nobody_sets_the_password_of_who_checks_them() {
        use Role::*;
        assert!(!SecurityAdmin.may_set_password_of(Auditor));
        assert!(!MunicipalAdmin.may_set_password_of(CountyOfficer));
        assert!(SecurityAdmin.may_set_password_of(CountyOfficer));
        assert!(!SecurityAdmin.may_set_password_of(SecurityAdmin));
        for role in Role::ALL {
            for target in Role::ALL {
                if target.checks(*role) {
                    assert!(!role.may_set_password_of(*target), "{role:?} {target:?}");
                }
                if !role.may(Action::ManageAccounts) {
                    assert!(!role.may_set_password_of(*target));
                }
            }
        }
    }

    #[test]
    fn monitoring_rights() {
        use Role::*;
        let all = Role::ALL.to_vec();
        let who = |action: Action| -> Vec<Role> {
            all.iter().copied().filter(|r| r.may(action)).collect()
        };
        assert_eq!(who(Action::ManageRuleSets), vec![MunicipalAdmin]);
        assert_eq!(
            who(Action::RunScreening),
            vec![MunicipalAdmin, CountyOfficer]
        );
        assert_eq!(
            who(Action::WhatIf),
            vec![MunicipalAdmin, CountyOfficer, TownshipOfficer]
        );
        assert_eq!(
            who(Action::ReadRuleSets),
            vec![MunicipalAdmin, CountyOfficer, TownshipOfficer]
        );
        // Whoever may change the rules or use them may read them.
        for r in all.iter().copied() {
            if r.may(Action::ManageRuleSets) || r.may(Action::RunScreening) || r.may(Action::WhatIf)
            {
                assert!(r.may(Action::ReadRuleSets), "{r:?}");
            }
        }
        // The auditor and department officers change nothing here.
        for r in [Auditor, DepartmentOfficer, VillageCadre] {
            assert!(!r.may(Action::ManageRuleSets) && !r.may(Action::RunScreening));
        }
    }

    #[test]
    fn roles_belong_to_divisions_of_their_level() {
        assert!(
            Role::VillageCadre
                .fits_division(&code("500229100201"))
                .is_ok()
        );
        assert!(
            Role::VillageCadre
                .fits_division(&code("500229000000"))
                .is_err()
        );
        assert!(
            Role::CountyOfficer
                .fits_division(&code("500229000000"))
                .is_ok()
        );
        assert!(
            Role::MunicipalAdmin
                .fits_division(&code("500000000000"))
                .is_ok()
        );
    }
}
