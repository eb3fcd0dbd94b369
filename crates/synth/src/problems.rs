//! Deliberate data problems: about 0.3% of households carry one mistake of the kind village
//! clerks make, each flagged as a warning by `zhenxing_core::checks`, so that the problem lists
//! of the villages have something to show. Every other household is clean.

use crate::people::Traits;
use crate::rng::Rng;
use zhenxing_core::{
    Disability, DocumentNumber, Education, Health, HealthCondition, HouseholdDraft, Labor,
    Relation, SchoolStatus,
};

/// Share of households with a planted problem.
pub const SHARE: f64 = 0.003;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    SpouseSameSexAsHead,
    EducationAndSchoolStatusNeither,
    EducationAndSchoolStatusBoth,
    ElderlyWithFullLabor,
    WorkingAgeWithoutLabor,
    WorkAwayWithoutLabor,
    SchoolAgeNotInSchool,
    CertificateWithoutDisability,
}

/// Whether this household gets a problem, and which (drawn before the household is composed,
/// because a same-sex spouse has to be planned as such).
pub fn draw(rng: &mut Rng) -> Option<Problem> {
    if !rng.chance(SHARE) {
        return None;
    }
    Some(rng.pick(&[
        (10, Problem::SpouseSameSexAsHead),
        (20, Problem::EducationAndSchoolStatusNeither),
        (10, Problem::EducationAndSchoolStatusBoth),
        (20, Problem::ElderlyWithFullLabor),
        (10, Problem::WorkingAgeWithoutLabor),
        (10, Problem::WorkAwayWithoutLabor),
        (10, Problem::SchoolAgeNotInSchool),
        (10, Problem::CertificateWithoutDisability),
    ]))
}

const ALL: [Problem; 8] = [
    Problem::SpouseSameSexAsHead,
    Problem::EducationAndSchoolStatusNeither,
    Problem::EducationAndSchoolStatusBoth,
    Problem::ElderlyWithFullLabor,
    Problem::WorkingAgeWithoutLabor,
    Problem::WorkAwayWithoutLabor,
    Problem::SchoolAgeNotInSchool,
    Problem::CertificateWithoutDisability,
];

/// Plants the problem in the draft; where the household offers no occasion for it (no
/// elderly member, say), the next kind that fits.
pub fn apply(rng: &mut Rng, draft: &mut HouseholdDraft, traits: &[Traits], problem: Problem) {
    let first = ALL.iter().position(|&p| p == problem).unwrap_or(0);
    for k in 0..ALL.len() {
        if plant(rng, draft, traits, ALL[(first + k) % ALL.len()]) {
            return;
        }
    }
}

fn plant(rng: &mut Rng, draft: &mut HouseholdDraft, traits: &[Traits], problem: Problem) -> bool {
    let members = &mut draft.members;
    let find = |pred: &dyn Fn(&Traits) -> bool| traits.iter().position(pred);
    match problem {
        Problem::SpouseSameSexAsHead => {
            // Planned by the family composer (only when this was the kind drawn).
            let head = members[0].sex();
            members
                .iter()
                .any(|m| m.relation == Relation::Spouse && m.sex() == head)
        }
        Problem::EducationAndSchoolStatusNeither => {
            // Every household has an adult head.
            members[0].education = None;
            members[0].school_status = None;
            true
        }
        Problem::EducationAndSchoolStatusBoth => match find(&|t| t.age >= 16) {
            Some(i) => {
                let m = &mut members[i];
                if m.education.is_some() {
                    m.school_status = Some(SchoolStatus::SeniorHigh);
                } else {
                    m.education = Some(Education::JuniorSecondary);
                }
                true
            }
            None => false,
        },
        Problem::ElderlyWithFullLabor => match find(&|t| t.age >= 60) {
            Some(i) => {
                members[i].labor = Labor::Ordinary;
                true
            }
            None => false,
        },
        Problem::WorkingAgeWithoutLabor => {
            match find(&|t| (16..60).contains(&t.age) && t.healthy() && !t.student) {
                Some(i) => {
                    members[i].labor = Labor::Weak;
                    members[i].work_months = None;
                    true
                }
                None => false,
            }
        }
        Problem::WorkAwayWithoutLabor => match find(&|t| t.age >= 16 && t.labor.is_without()) {
            Some(i) => {
                members[i].work_months = Some(rng.range(2, 8) as u8);
                true
            }
            None => false,
        },
        Problem::SchoolAgeNotInSchool => match find(&|t| (8..=15).contains(&t.age)) {
            Some(i) => {
                // A dropout recorded with an education level instead of a school status.
                members[i].school_status = None;
                members[i].education = Some(Education::Primary);
                true
            }
            None => false,
        },
        Problem::CertificateWithoutDisability => {
            match find(&|t| t.certificate.is_some()) {
                Some(i) => {
                    // The disability left out of the health field.
                    members[i].health = Health::from_conditions(&[HealthCondition::Chronic]);
                }
                None => {
                    let i = rng.index(members.len());
                    let id = members[i].document.id().clone();
                    let disability = Disability {
                        category: 4,
                        level: 4,
                    };
                    members[i].document = DocumentNumber::DisabilityCertificate(id, disability);
                }
            }
            true
        }
    }
}
