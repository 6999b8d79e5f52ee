"""The messages the bot shows in private chats: each one's text and keyboard, built from what
the services found (apps/accounts/texts.py holds the words, keyboards.py the buttons)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from telebot.types import InlineKeyboardMarkup

from apps.accounts import keyboards, texts
from apps.accounts.models import Account
from apps.accounts.services.accounts import Referrals, referral_link
from apps.accounts.services.clones import OwnedBot, short_label
from apps.accounts.services.live import PAGE_SIZE, Page, is_unlimited
from apps.bots.context import BotContext

Shown = tuple[str, InlineKeyboardMarkup | None]


def name_of(account: Account) -> str:
    return account.first_name or (f"@{account.username}" if account.username else "there")


def day(moment: datetime | None) -> str:
    local = timezone.localtime(moment or timezone.now())
    return f"{local.day} {local:%b %Y}"


def welcome(bot: BotContext, account: Account, created: bool) -> Shown:
    if created:
        text = texts.WELCOME.format(
            name=name_of(account),
            points=account.points,
            link=referral_link(bot, account.telegram_id),
        )
        if account.referred_by is not None:
            text += texts.WELCOME_REFERRED.format(referrer=name_of(account.referred_by))
    elif is_unlimited(account):
        text = texts.WELCOME_BACK_UNLIMITED.format(
            name=name_of(account), until=day(account.unlimited_until)
        )
    else:
        text = texts.WELCOME_BACK.format(name=name_of(account), points=account.points)
    return text, keyboards.menu()


def live_page(page: Page, footer: str) -> Shown:
    if not page.entries:
        return texts.LIVE_NONE_NOW, None
    lines = [texts.LIVE_HEADER.format(number=page.number, pages=page.pages, total=page.total)]
    now = timezone.now()
    for n, entry in enumerate(page.entries, start=(page.number - 1) * PAGE_SIZE + 1):
        since = ""
        if entry.live_since is not None:
            minutes = max(0, int((now - entry.live_since).total_seconds() // 60))
            since = texts.LIVE_SINCE.format(minutes=minutes)
        lines.append(
            texts.LIVE_LINE.format(
                n=n,
                title=entry.title or entry.handle,
                platform=entry.platform,
                handle=entry.handle,
                since=since,
            )
        )
    lines += ["", footer]
    return "\n".join(lines), keyboards.live_page(page.entries, page.number, page.pages)


def no_points(bot: BotContext, account: Account) -> Shown:
    link = referral_link(bot, account.telegram_id)
    return texts.NO_POINTS.format(link=link), keyboards.earn(link)


def account_view(
    bot: BotContext, account: Account, referrals: Referrals, bots: list[OwnedBot]
) -> Shown:
    points = str(account.points)
    if is_unlimited(account):
        points = texts.POINTS_UNLIMITED.format(
            until=day(account.unlimited_until), points=account.points
        )
    text = texts.ACCOUNT.format(
        points=points,
        count=referrals.count,
        referral_points=referrals.points,
        bots=", ".join(f"@{owned.username}" for owned in bots) or texts.NO_BOTS,
        link=referral_link(bot, account.telegram_id),
    )
    removable = [(owned.id, owned.username) for owned in bots if owned.removable]
    return text, keyboards.account_menu(removable)


def clone_picker(choices: list[tuple[str, str]], chosen: list[str]) -> Shown:
    lines = "\n".join(texts.CLONE_CHOICE.format(label=label) for _, label in choices)
    buttons = [(name, short_label(label)) for name, label in choices]
    return texts.CLONE_START.format(choices=lines), keyboards.clone_features(buttons, chosen)
