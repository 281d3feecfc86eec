use std::fmt;

/// Every reason one input was refused, in the order of the rules, so a
/// person fixes them all at once instead of one per attempt. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems<E>(Vec<E>);

impl<E> Problems<E> {
    /// `Ok` when nothing was found, else every problem found.
    pub fn check(found: Vec<E>) -> Result<(), Self> {
        if found.is_empty() {
            Ok(())
        } else {
            Err(Self(found))
        }
    }

    pub fn all(&self) -> &[E] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<E> {
        self.0
    }
}

impl<E> From<E> for Problems<E> {
    fn from(problem: E) -> Self {
        Self(vec![problem])
    }
}

/// The messages, one sentence each, separated by spaces.
impl<E: fmt::Display> fmt::Display for Problems<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Problems<E> {}
