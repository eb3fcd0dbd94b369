//! Who lives in a household: relations to the head, sexes, planned ages, surnames. The shapes
//! are those of rural Chongqing after two decades of migration: old people alone or as a
//! couple, nuclear families, grandparents heading a home with a son, his wife and their
//! children, a head with an elderly parent.
//!
//! Ages keep the relations plausible: a child is at least 20 years younger than the parent, a
//! grandchild at least 20 years younger than its parent, spouses within a few years.

use crate::names::{self, Surname};
use crate::rng::Rng;
use zhenxing_core::{Relation, Sex};

/// A person before dates, documents and attributes are drawn.
#[derive(Debug, Clone, Copy)]
pub struct Planned {
    pub relation: Relation,
    pub sex: Sex,
    pub age: i32,
    pub surname: Surname,
    /// Married into the family: draws a separate ethnicity.
    pub in_law: bool,
}

fn opposite(sex: Sex) -> Sex {
    match sex {
        Sex::Male => Sex::Female,
        Sex::Female => Sex::Male,
    }
}

fn sex_with_male_share(rng: &mut Rng, p_male: f64) -> Sex {
    if rng.chance(p_male) {
        Sex::Male
    } else {
        Sex::Female
    }
}

fn child_relation(sex: Sex) -> Relation {
    match sex {
        Sex::Male => Relation::Son,
        Sex::Female => Relation::Daughter,
    }
}

/// Plans a household of `n` (1 to 7) people. `older` leans towards elderly heads (households
/// lifted out of poverty); `same_sex_spouse` plants a data problem.
pub fn compose(rng: &mut Rng, n: usize, older: bool, same_sex_spouse: bool) -> Vec<Planned> {
    let mut people = Vec::with_capacity(n);
    let family = names::surname(rng);
    match n {
        0 | 1 => {
            let elderly = rng.chance(if older { 0.68 } else { 0.5 });
            let (age, p_male) = if elderly {
                (rng.range(60, 93) as i32, 0.48)
            } else {
                (rng.range(26, 59) as i32, 0.82)
            };
            let sex = sex_with_male_share(rng, p_male);
            people.push(head(sex, age, family));
        }
        2 => {
            let r = rng.unit();
            if r < 0.56 {
                let age = if rng.chance(if older { 0.78 } else { 0.6 }) {
                    rng.range(55, 88) as i32
                } else {
                    rng.range(26, 54) as i32
                };
                couple(rng, &mut people, age, family, same_sex_spouse);
            } else if r < 0.86 {
                let age = rng.range(40, 86) as i32;
                let sex = sex_with_male_share(rng, 0.45);
                people.push(head(sex, age, family));
                let child_sex = sex_with_male_share(rng, 0.6);
                let child_age = age - rng.range(20, 36) as i32;
                let surname = if sex == Sex::Male {
                    family
                } else {
                    names::surname(rng)
                };
                people.push(member(
                    child_relation(child_sex),
                    child_sex,
                    child_age.max(0),
                    surname,
                ));
            } else {
                let age = rng.range(25, 60) as i32;
                let sex = sex_with_male_share(rng, 0.75);
                people.push(head(sex, age, family));
                parents(rng, &mut people, age, family, 1);
            }
        }
        _ => {
            if n >= 4 && rng.chance(if older { 0.36 } else { 0.3 }) {
                three_generations(rng, &mut people, n, family, same_sex_spouse);
            } else {
                nuclear(rng, &mut people, n, family, same_sex_spouse);
            }
        }
    }
    people
}

fn head(sex: Sex, age: i32, surname: Surname) -> Planned {
    member(Relation::Head, sex, age, surname)
}

fn member(relation: Relation, sex: Sex, age: i32, surname: Surname) -> Planned {
    Planned {
        relation,
        sex,
        age,
        surname,
        in_law: false,
    }
}

/// Head and spouse; returns the surname the children take (the husband's).
fn couple(
    rng: &mut Rng,
    people: &mut Vec<Planned>,
    age: i32,
    family: Surname,
    same_sex_spouse: bool,
) -> Surname {
    let sex = sex_with_male_share(rng, 0.9);
    people.push(head(sex, age, family));
    let spouse_sex = if same_sex_spouse { sex } else { opposite(sex) };
    // Wives are usually a few years younger than their husbands.
    let gap = rng.range(-2, 6) as i32;
    let spouse_age = if sex == Sex::Male {
        age - gap
    } else {
        age + gap
    };
    people.push(Planned {
        relation: Relation::Spouse,
        sex: spouse_sex,
        age: spouse_age.max(20),
        surname: names::other_surname(rng, family),
        in_law: true,
    });
    match (sex, spouse_sex) {
        (Sex::Female, Sex::Male) => people[people.len() - 1].surname,
        _ => family,
    }
}

/// One or two parents of the head.
fn parents(rng: &mut Rng, people: &mut Vec<Planned>, head_age: i32, family: Surname, count: usize) {
    let father_age = (head_age + rng.range(22, 34) as i32).min(99);
    if count >= 2 {
        people.push(member(Relation::Father, Sex::Male, father_age, family));
        let mother_age = (father_age - rng.range(0, 5) as i32).max(head_age + 20);
        let mut mother = member(
            Relation::Mother,
            Sex::Female,
            mother_age,
            names::other_surname(rng, family),
        );
        mother.in_law = true;
        people.push(mother);
    } else if rng.chance(0.35) {
        people.push(member(Relation::Father, Sex::Male, father_age, family));
    } else {
        let mut mother = member(
            Relation::Mother,
            Sex::Female,
            (father_age - rng.range(0, 4) as i32).max(head_age + 20),
            names::other_surname(rng, family),
        );
        mother.in_law = true;
        people.push(mother);
    }
}

/// Head (a parent), usually a spouse, children, sometimes the head's parents.
fn nuclear(
    rng: &mut Rng,
    people: &mut Vec<Planned>,
    n: usize,
    family: Surname,
    same_sex_spouse: bool,
) {
    let with_spouse = rng.chance(0.9);
    let slots = n - 1 - usize::from(with_spouse);
    let mut elders = 0;
    if slots >= 2 && rng.chance(0.35) {
        elders = 1 + usize::from(slots >= 3 && rng.chance(0.45));
    }
    let children = slots - elders;
    // Parents of the head must still be alive and under 100.
    let age_cap = if elders > 0 { 60 } else { 64 };
    let age = rng.range(26 + children as i64, age_cap) as i32;
    let child_surname = if with_spouse {
        couple(rng, people, age, family, same_sex_spouse)
    } else {
        lone_head(rng, people, age, family, 0.6)
    };
    let head_age = people[0].age;
    if elders > 0 {
        parents(rng, people, head_age, family, elders);
    }
    for _ in 0..children {
        let sex = sex_with_male_share(rng, 0.52);
        let oldest = head_age - 20;
        let youngest = (head_age - 44).max(0);
        let child_age = rng.range(i64::from(youngest), i64::from(oldest.max(youngest))) as i32;
        people.push(member(child_relation(sex), sex, child_age, child_surname));
    }
}

/// Grandparent head, usually with a spouse; a married son (or daughter) and grandchildren.
fn three_generations(
    rng: &mut Rng,
    people: &mut Vec<Planned>,
    n: usize,
    family: Surname,
    same_sex_spouse: bool,
) {
    let age = rng.range(50, 82) as i32;
    let with_spouse = rng.chance(0.82);
    let line = if with_spouse {
        couple(rng, people, age, family, same_sex_spouse)
    } else {
        lone_head(rng, people, age, family, 0.5)
    };
    let head_age = people[0].age;
    let slots = n - 1 - usize::from(with_spouse);
    // The middle generation: a son with his wife (most often) or a daughter with her husband.
    let through_son = rng.chance(0.82);
    let middle_age = rng.range(i64::from((head_age - 34).max(22)), i64::from(head_age - 22)) as i32;
    let (middle_sex, in_law_relation) = if through_son {
        (Sex::Male, Relation::DaughterInLaw)
    } else {
        (Sex::Female, Relation::SonInLaw)
    };
    people.push(member(
        child_relation(middle_sex),
        middle_sex,
        middle_age,
        line,
    ));
    let mut grandchildren = slots - 1;
    let mut grandchild_surname = line;
    if slots >= 2 {
        let in_law_age = (middle_age + rng.range(-4, 3) as i32).clamp(20, head_age - 18);
        let surname = names::other_surname(rng, line);
        people.push(Planned {
            relation: in_law_relation,
            sex: opposite(middle_sex),
            age: in_law_age,
            surname,
            in_law: true,
        });
        grandchildren -= 1;
        if !through_son {
            grandchild_surname = surname;
        }
    }
    for _ in 0..grandchildren {
        let sex = sex_with_male_share(rng, 0.52);
        let relation = match (through_son, sex) {
            (true, Sex::Male) => Relation::Grandson,
            (true, Sex::Female) => Relation::Granddaughter,
            (false, Sex::Male) => Relation::DaughtersSon,
            (false, Sex::Female) => Relation::DaughtersDaughter,
        };
        let oldest = (middle_age - 20).min(22);
        let grandchild_age = rng.range(0, i64::from(oldest.max(0))) as i32;
        people.push(member(relation, sex, grandchild_age, grandchild_surname));
    }
}

/// A head without a spouse; returns the surname the children carry (the father's: the family's
/// for a man, another for a woman whose children's father is not in the household).
fn lone_head(
    rng: &mut Rng,
    people: &mut Vec<Planned>,
    age: i32,
    family: Surname,
    male_share: f64,
) -> Surname {
    let sex = sex_with_male_share(rng, male_share);
    people.push(head(sex, age, family));
    if sex == Sex::Male {
        family
    } else {
        names::surname(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_household_has_one_head_and_the_right_size() {
        let mut rng = Rng::from_seed(11);
        for n in 1..=7 {
            for _ in 0..2000 {
                let people = compose(&mut rng, n, true, false);
                assert_eq!(people.len(), n);
                assert_eq!(
                    people
                        .iter()
                        .filter(|p| p.relation == Relation::Head)
                        .count(),
                    1
                );
                let head = people[0];
                assert!(head.age >= 20, "{people:?}");
                for p in &people {
                    assert!(p.age >= 0 && p.age < 100, "{people:?}");
                    match p.relation {
                        Relation::Son | Relation::Daughter => assert!(p.age <= head.age - 20),
                        Relation::Father | Relation::Mother => assert!(p.age >= head.age + 20),
                        Relation::Spouse => assert_ne!(p.sex, head.sex),
                        _ => {}
                    }
                }
            }
        }
    }
}
