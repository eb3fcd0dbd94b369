use super::*;
use proptest::prelude::*;

const NONE: &[ProjectCategory] = &[];

fn walk(steps: &[ProjectStep]) -> Result<ProjectStage, Text> {
    steps
        .iter()
        .try_fold(ProjectStage::Proposed, |stage, step| {
            next_stage(stage, *step, ProjectCategory::Industry, NONE, "")
        })
}

#[test]
fn a_project_goes_from_proposal_to_archive_in_order() {
    use ProjectStep as P;
    let path = [
        P::Review,
        P::Admit,
        P::Plan,
        P::IssueFunds,
        P::Start,
        P::Accept,
        P::HandOver,
        P::Archive,
    ];
    assert_eq!(walk(&path), Ok(ProjectStage::Archived));
    // A step out of order is refused, naming the stage and the step.
    let e = walk(&[P::Review, P::Plan]).unwrap_err();
    assert!(e.en.contains("'reviewed by the county'"), "{}", e.en);
    assert!(e.zh.contains("列入年度计划"), "{}", e.zh);
}

#[test]
fn a_rejection_needs_a_reason_and_comes_before_the_funds() {
    use ProjectStage as S;
    use ProjectStep as P;
    let c = ProjectCategory::Infrastructure;
    for stage in [S::Proposed, S::Reviewed, S::Admitted, S::Planned] {
        assert!(
            next_stage(stage, P::Reject, c, NONE, "  ").is_err(),
            "{stage:?}"
        );
        assert_eq!(
            next_stage(stage, P::Reject, c, NONE, "与巩固衔接无关"),
            Ok(S::Rejected)
        );
    }
    for stage in [S::Funded, S::UnderConstruction, S::Accepted, S::HandedOver] {
        assert!(
            next_stage(stage, P::Reject, c, NONE, "理由").is_err(),
            "{stage:?}"
        );
    }
}

#[test]
fn a_category_on_the_negative_list_is_never_admitted() {
    let negative = [ProjectCategory::Other];
    let e = next_stage(
        ProjectStage::Reviewed,
        ProjectStep::Admit,
        ProjectCategory::Other,
        &negative,
        "",
    )
    .unwrap_err();
    assert!(e.en.contains("negative list"), "{}", e.en);
    assert_eq!(
        next_stage(
            ProjectStage::Reviewed,
            ProjectStep::Admit,
            ProjectCategory::Industry,
            &negative,
            ""
        ),
        Ok(ProjectStage::Admitted)
    );
}

#[test]
fn a_balance_never_goes_below_zero() {
    let b = Balance::new(Fen(100_000));
    let b = b.disburse(Fen(60_000)).unwrap();
    assert_eq!(b.left(), Fen(40_000));
    let e = b.disburse(Fen(40_001)).unwrap_err();
    assert!(
        e.en.contains("400.01") && e.en.contains("400.00"),
        "{}",
        e.en
    );
    assert!(b.disburse(Fen(0)).is_err());
    assert_eq!(b.disburse(Fen(40_000)).unwrap().left(), Fen::ZERO);
}

#[test]
fn the_industry_share_is_measured_against_the_years_minimum() {
    assert_eq!(industry_minimum(INDUSTRY_SHARE_MINIMUM, 2021), None);
    assert_eq!(industry_minimum(INDUSTRY_SHARE_MINIMUM, 2022), Some(55));
    assert_eq!(industry_minimum(INDUSTRY_SHARE_MINIMUM, 2026), Some(60));
    let spent = [
        (ProjectCategory::Industry, Fen(5_512)),
        (ProjectCategory::Infrastructure, Fen(4_488)),
    ];
    assert_eq!(industry_share(&spent), Some(5_512));
    assert_eq!(industry_share(&[]), None);
}

fn any_step() -> impl Strategy<Value = ProjectStep> {
    proptest::sample::select(ProjectStep::ALL.to_vec())
}

proptest! {
    /// Whatever steps are tried, a project only moves along the path: each accepted step
    /// leads to the stage after the one it left (or to rejection before the funds), and
    /// nothing leaves a final stage.
    #[test]
    fn only_the_path_is_ever_taken(steps in proptest::collection::vec(any_step(), 0..40)) {
        let order = |s: ProjectStage| ProjectStage::ALL.iter().position(|x| *x == s).unwrap_or(0);
        let mut stage = ProjectStage::Proposed;
        for step in steps {
            match next_stage(stage, step, ProjectCategory::Employment, NONE, "理由") {
                Ok(next) => {
                    prop_assert!(!stage.is_final());
                    if next == ProjectStage::Rejected {
                        prop_assert!(order(stage) <= order(ProjectStage::Planned));
                    } else {
                        prop_assert_eq!(order(next), order(stage) + 1);
                    }
                    stage = next;
                }
                Err(why) => prop_assert!(!why.zh.is_empty() && !why.en.is_empty()),
            }
        }
    }

    /// Disbursements never take a balance below zero, whatever is asked.
    #[test]
    fn disbursements_never_overdraw(
        allocated in 0i64..10_000_000,
        asks in proptest::collection::vec(-1_000i64..5_000_000, 0..30),
    ) {
        let mut b = Balance::new(Fen(allocated));
        for a in asks {
            if let Ok(next) = b.disburse(Fen(a)) {
                b = next;
            }
            prop_assert!(b.left().0 >= 0);
            prop_assert_eq!(b.left().0 + b.disbursed.0, allocated);
        }
    }
}
