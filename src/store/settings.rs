//! Per-server settings: small records, read on every relevant event, written
//! when someone with Manage Server changes them.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One server's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuildSettings {
    /// Whether references in ordinary messages get a compact reply.
    pub inline: bool,
}

impl Store {
    /// A server's settings; defaults when none were saved.
    pub fn guild_settings(&self, guild: u64) -> Result<GuildSettings, StoreError> {
        self.with(
            |live| match live.t.guild_settings.get(guild.to_be_bytes())? {
                Some(bytes) => serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("settings of server {guild}: {e}"))),
                None => Ok(GuildSettings::default()),
            },
        )
    }

    /// Saves a server's settings durably.
    pub fn set_guild_settings(
        &self,
        guild: u64,
        settings: &GuildSettings,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(settings)
            .map_err(|e| StoreError::Corrupt(format!("settings of server {guild}: {e}")))?;
        self.with(|live| {
            live.t.guild_settings.insert(guild.to_be_bytes(), bytes)?;
            self.commit(live)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_dir;
    use super::*;

    #[test]
    fn settings_survive_a_reopen() {
        let dir = temp_dir("settings");
        {
            let store = Store::open(&dir, None).unwrap();
            assert!(!store.guild_settings(7).unwrap().inline);
            store
                .set_guild_settings(7, &GuildSettings { inline: true })
                .unwrap();
        }
        let store = Store::open(&dir, None).unwrap();
        assert!(store.guild_settings(7).unwrap().inline);
        assert!(!store.guild_settings(8).unwrap().inline);
    }
}
