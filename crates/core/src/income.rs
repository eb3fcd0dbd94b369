//! Income items and the net income formula (DOMAIN.md 2.3):
//! net = wage + business + property + transfer − business expense;
//! per-capita net income = net ÷ household members.

use crate::money::Fen;

/// The annual income items of a household, each >= 0 (the constructor refuses negatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IncomeItems {
    wage: Fen,
    business: Fen,
    property: Fen,
    transfer: Fen,
    business_expense: Fen,
}

impl IncomeItems {
    /// `None` if any item is negative.
    pub fn new(
        wage: Fen,
        business: Fen,
        property: Fen,
        transfer: Fen,
        business_expense: Fen,
    ) -> Option<IncomeItems> {
        let items = IncomeItems {
            wage,
            business,
            property,
            transfer,
            business_expense,
        };
        items.as_array().iter().all(|f| f.0 >= 0).then_some(items)
    }

    pub fn wage(&self) -> Fen {
        self.wage
    }
    pub fn business(&self) -> Fen {
        self.business
    }
    pub fn property(&self) -> Fen {
        self.property
    }
    pub fn transfer(&self) -> Fen {
        self.transfer
    }
    pub fn business_expense(&self) -> Fen {
        self.business_expense
    }

    /// wage, business, property, transfer, business expense: the order of the exchange format.
    pub fn as_array(&self) -> [Fen; 5] {
        [
            self.wage,
            self.business,
            self.property,
            self.transfer,
            self.business_expense,
        ]
    }

    /// Net income; negative when business expense exceeds income.
    pub fn net(&self) -> Fen {
        self.wage + self.business + self.property + self.transfer - self.business_expense
    }

    /// Per-capita net income, rounded half away from zero to the fen; `None` for no members.
    pub fn per_capita_net(&self, members: u32) -> Option<Fen> {
        self.net().per_capita(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_income_formula() {
        let items = IncomeItems::new(
            Fen::from_yuan(12_000),
            Fen::from_yuan(3_000),
            Fen::from_yuan(200),
            Fen::from_yuan(1_800),
            Fen::from_yuan(2_000),
        )
        .unwrap();
        assert_eq!(items.net(), Fen::from_yuan(15_000));
        assert_eq!(items.per_capita_net(4), Some(Fen::from_yuan(3_750)));
        assert_eq!(
            IncomeItems::new(Fen(-1), Fen::ZERO, Fen::ZERO, Fen::ZERO, Fen::ZERO),
            None
        );
    }
}
