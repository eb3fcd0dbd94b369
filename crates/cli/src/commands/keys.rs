//! `zhenxing keys`: the key file of the personal data encrypted at rest
//! ([`zhenxing_store::keys`]).

use crate::output::say;
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;
use zhenxing_core::{Lang, Text};
use zhenxing_store::keys::zhenxing_crypto::Suite;
use zhenxing_store::keys::{self, KeyConfig};
use zhenxing_store::{DatabaseUrl, Db, audit};

pub fn parse_suite(s: &str) -> Result<Suite> {
    Suite::parse(s).ok_or_else(|| {
        anyhow::Error::new(Text::new(
            format!("未知的密码算法套件“{s}”：请用 international（AES-256-GCM、HMAC-SHA-256）或 national（SM4-GCM、HMAC-SM3）"),
            format!("unknown cipher suite '{s}': use international (AES-256-GCM, HMAC-SHA-256) or national (SM4-GCM, HMAC-SM3)"),
        ))
    })
}

/// Writes a new key file for a registry that has no keys yet, and records its checks.
pub async fn init(url: &str, mut config: KeyConfig, suite: Suite, lang: Lang) -> Result<ExitCode> {
    if config.keys_json.is_some() {
        return Err(anyhow::Error::new(Text::new(
            "已设置 ZHENXING_KEYS：keys init 只写密钥文件。请取消该变量，或在密钥管理系统中保存 keys init 写出的文件内容。",
            "ZHENXING_KEYS is set: keys init writes a key file; unset it, or store the file keys init writes in the secret store",
        )));
    }
    let db = Db::connect(&DatabaseUrl::parse(url)?).await?;
    db.migrate().await?;
    if keys::recorded(&db).await?.settings.is_some() {
        db.close().await;
        return Err(anyhow::Error::new(Text::new(
            "这个登记库已有密钥：请用 zhenxing keys status 查看，用 keys rotate 增加数据密钥。",
            "this registry has keys already: see them with `zhenxing keys status`, add a data key with `keys rotate`",
        )));
    }
    let Some(path) = config
        .key_file
        .clone()
        .or(keys::default_key_file(&db).await?)
    else {
        db.close().await;
        return Err(anyhow::Error::new(Text::new(
            "内存数据库没有默认的密钥文件：请用 --key-file 指定。",
            "an in-memory database has no default key file: give one with --key-file",
        )));
    };
    keys::init_key_file(&path, suite)?;
    config.key_file = Some(path.clone());
    keys::install(&db, &config).await?;
    db.close().await;
    let shown = path.display();
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "已写出密钥文件 {shown}（{}）。请把它与数据库分开备份：没有它，身份证号和电话号码无法读出。",
                suite.algorithms()
            ),
            &format!(
                "key file {shown} written ({}). Back it up apart from the database: without it the ID and phone numbers cannot be read.",
                suite.algorithms()
            ),
        )
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn status(db: &Db, lang: Lang, as_json: bool) -> Result<ExitCode> {
    let Some((ring, source)) = keys::current() else {
        return Ok(ExitCode::FAILURE);
    };
    let counts = keys::counts(db).await?;
    let plaintext: i64 = counts.iter().map(|c| c.plaintext).sum();
    let mut per_key = std::collections::BTreeMap::<u32, i64>::new();
    for c in &counts {
        for (id, n) in &c.by_key {
            *per_key.entry(*id).or_default() += n;
        }
    }
    if as_json {
        let value = json!({
            "suite": ring.suite().code(),
            "algorithms": ring.suite().algorithms(),
            "key_source": source.describe(),
            "current_key": ring.current(),
            "keys": per_key.iter().map(|(id, n)| json!({"key": id, "values": n})).collect::<Vec<_>>(),
            "plaintext": plaintext,
            "columns": counts,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let (suite, algorithms, shown) = (ring.suite(), ring.suite().algorithms(), source.describe());
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "密钥来源：{shown}\n算法套件：{suite}（{algorithms}）\n当前数据密钥：{}",
                ring.current()
            ),
            &format!(
                "keys from: {shown}\nsuite: {suite} ({algorithms})\ncurrent data key: {}",
                ring.current()
            ),
        )
    );
    for (id, n) in &per_key {
        outln!(
            "{}",
            say(
                lang,
                &format!("数据密钥 {id}：加密 {n} 个值"),
                &format!("data key {id}: encrypts {n} value(s)")
            )
        );
    }
    for c in &counts {
        let by_key: Vec<String> = c.by_key.iter().map(|(id, n)| format!("{id}:{n}")).collect();
        outln!(
            "  {}.{}  {}  {}",
            c.table,
            c.column,
            by_key.join(" "),
            say(
                lang,
                &format!("明文 {}", c.plaintext),
                &format!("plaintext {}", c.plaintext)
            )
        );
    }
    outln!(
        "{}",
        say(
            lang,
            &format!("尚未加密的值：{plaintext}"),
            &format!("values not yet encrypted: {plaintext}")
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// Adds a data key (unless a rotation is still under way: then it resumes), re-encrypts, and
/// records the operation with its counts.
pub async fn rotate(db: &Db, lang: Lang, batches: Option<u64>) -> Result<ExitCode> {
    let pending = keys::pending(db).await?;
    let resumed = pending > 0;
    let key = if resumed {
        keys::current().map(|(ring, _)| ring.current()).unwrap_or(0)
    } else {
        keys::add_key(db).await?
    };
    outln!(
        "{}",
        say(
            lang,
            &if resumed {
                format!("继续上次未完成的轮换：还有 {pending} 个值要用数据密钥 {key} 重新加密")
            } else {
                format!("已增加数据密钥 {key} 并写入密钥文件；开始重新加密")
            },
            &if resumed {
                format!(
                    "resuming an unfinished rotation: {pending} value(s) still to re-encrypt with data key {key}"
                )
            } else {
                format!("data key {key} added to the key file; re-encrypting")
            },
        )
    );
    let done = keys::reencrypt(db, batches).await?;
    let left = keys::pending(db).await?;
    audit::append_one(
        db,
        audit::AuditEntry {
            actor: super::cli_actor(),
            action: "keys.rotate".into(),
            object_type: "data_key".into(),
            object_id: Some(key.to_string()),
            after: Some(json!({
                "key": key, "resumed": resumed, "values": done.values,
                "batches": done.batches, "left": left,
            })),
            ..Default::default()
        },
    )
    .await?;
    let values = done.values;
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "重新加密了 {values} 个值（{} 批）；还剩 {left} 个",
                done.batches
            ),
            &format!(
                "{values} value(s) re-encrypted ({} batches); {left} left",
                done.batches
            ),
        )
    );
    if left > 0 {
        outln!(
            "{}",
            say(
                lang,
                "再次运行 zhenxing keys rotate 完成轮换",
                "run `zhenxing keys rotate` again to finish the rotation"
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn retire(db: &Db, lang: Lang, key: u32) -> Result<ExitCode> {
    keys::retire(db, key).await?;
    audit::append_one(
        db,
        audit::AuditEntry {
            actor: super::cli_actor(),
            action: "keys.retire".into(),
            object_type: "data_key".into(),
            object_id: Some(key.to_string()),
            ..Default::default()
        },
    )
    .await?;
    outln!(
        "{}",
        say(
            lang,
            &format!("数据密钥 {key} 已从密钥文件中删除"),
            &format!("data key {key} removed from the key file")
        )
    );
    Ok(ExitCode::SUCCESS)
}
