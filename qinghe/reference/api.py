from __future__ import annotations

from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from qinghe.core.http import AuthedRequest

from .selectors import dataset_get, reference_search

router = Router()

DatasetSlug = Literal[
    "majors", "categories", "universities", "regions", "towns", "occupations", "industries"
]


class SearchIn(Schema):
    dataset: DatasetSlug = Field(description="数据集")
    q: str = Field("", max_length=100, description="名称、别名、代码或拼音首字母；多个词须同时命中")
    limit: int = Field(20, ge=1, le=100, description="最多返回条数")


class ReferenceItemOut(Schema):
    code: str = Field(description="代码（高校为来源编号）")
    name: str
    extra: str = Field(description="补充说明，如所属专业类、省份城市与双一流标记")


@router.get(
    "/search",
    response=list[ReferenceItemOut],
    url_name="reference_search",
    summary="检索参考数据",
)
def search(request: AuthedRequest, filters: Query[SearchIn]) -> list[ReferenceItemOut]:
    dataset = dataset_get(filters.dataset)
    assert dataset is not None  # the Literal type admits only known datasets
    hits = reference_search(dataset=dataset, q=filters.q, limit=filters.limit)
    return [ReferenceItemOut(code=hit.code, name=hit.name, extra=hit.extra) for hit in hits]
