from __future__ import annotations

from typing import Any

from django import forms

from qinghe.enterprises.models import Enterprise
from qinghe.events.forms import LocalDateTimeInput
from qinghe.jobs.models import Posting


class StreamForm(forms.Form):
    title = forms.CharField(label="直播标题", max_length=120)
    host = forms.CharField(label="主持人", max_length=60)
    enterprises = forms.ModelMultipleChoiceField(
        label="参与企业",
        queryset=Enterprise.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    postings = forms.ModelMultipleChoiceField(
        label="推介岗位",
        queryset=Posting.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="只能选择参与企业已发布的岗位",
    )
    starts_at = forms.DateTimeField(label="计划开始", widget=LocalDateTimeInput())
    ends_at = forms.DateTimeField(label="计划结束", widget=LocalDateTimeInput())
    hls_url = forms.CharField(
        label="直播地址（HLS）",
        max_length=500,
        help_text="服务商提供的 .m3u8 地址，或本机推流服务（HLS 目录）下的 .m3u8 路径",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprises"].queryset = Enterprise.objects.filter(  # type: ignore[attr-defined]
            state=Enterprise.State.VERIFIED
        ).order_by("name")
        self.fields["postings"].queryset = (  # type: ignore[attr-defined]
            Posting.objects.filter(
                state=Posting.State.PUBLISHED, enterprise__state=Enterprise.State.VERIFIED
            )
            .select_related("enterprise")
            .order_by("enterprise__name", "title")
        )
        self.fields["postings"].label_from_instance = (  # type: ignore[attr-defined]
            lambda p: f"{p.enterprise.name} · {p.title}"
        )
