"""What Tray's SOAP webservice v2 offers: its types and operations, as the sandbox serves them.

No WSDL of ``ws_servidor.php`` is public. Operation names and parameters seen
in public client code (shared reference, tray_soap_ftp_ideris_tiny.md part
A.3) are marked ``confirmed``; the rest, and every struct's field list, are
this project's design after Tray's REST records, so a plugin written against
the sandbox must expect the real WSDL to differ and read it at run time.
Every call starts with the store id, login and password (A.2).
"""

from __future__ import annotations

from tramo.sandbox.soap import SoapOperation, SoapService

__all__ = ["ARRAYS", "AUTH", "NAMESPACE", "PATH", "SERVICE", "STRUCTS"]

PATH = "/webservice/v2/ws_servidor.php"
NAMESPACE = "urn:ws_servidor"

#: Store id, webservice login and password: the first parameters of every call.
AUTH: tuple[tuple[str, str], ...] = (
    ("pid_loja", "xsd:string"), ("plogin", "xsd:string"), ("psenha", "xsd:string"))

_IMAGES = tuple(f"imagem_{n}" for n in range(1, 7))

STRUCTS: dict[str, tuple[str, ...]] = {
    "Retorno": ("status", "mensagem", "id"),
    "ResumoPedido": ("id_pedido", "id_cliente", "data_pedido", "hora_pedido",
                     "data_modificacao", "id_status"),
    "Pedido": ("id_pedido", "id_cliente", "data_pedido", "hora_pedido", "data_modificacao",
               "id_status", "status", "valor_subtotal", "valor_desconto", "valor_frete",
               "valor_total", "id_forma_envio", "forma_envio", "prazo_entrega",
               "id_forma_pagamento", "forma_pagamento", "numero_parcelas", "valor_parcela",
               "id_canal_venda", "canal_venda", "id_pedido_marketplace", "codigo_rastreio",
               "url_rastreio", "data_envio", "observacao", "cupom_desconto"),
    "ItemPedido": ("id_item", "id_pedido", "id_produto", "id_variacao", "cod_referencia",
                   "nome_produto", "variacao", "quantidade", "preco", "ean"),
    "Cliente": ("id_cliente", "cliente", "tipo_pessoa", "cnpj_cpf", "rg_ie", "razao_social",
                "email", "telefone", "celular", "data_nascimento", "logradouro", "numero",
                "complemento", "bairro", "cidade", "uf", "cep", "pais"),
    "Endereco": ("destinatario", "logradouro", "numero", "complemento", "bairro", "cidade",
                 "uf", "cep", "pais"),
    "Parcela": ("numero", "valor", "vencimento"),
    "Produto": ("id_produto", "cod_referencia", "nome", "descricao", "descricao_resumida",
                "ean", "ncm", "marca", "preco", "peso", "altura", "largura", "comprimento",
                "estoque", "disponivel", "possui_variacao", *_IMAGES, "data_modificacao"),
    "Variacao": ("id_variacao", "id_produto", "cod_referencia", "ean", "preco", "peso",
                 "altura", "largura", "comprimento", "estoque", "disponivel", "tipo_1",
                 "valor_1", "tipo_2", "valor_2", *_IMAGES),
    "NotaFiscal": ("id_nota", "id_pedido", "numero", "serie", "chave_acesso", "data_emissao",
                   "valor", "link"),
    "Opcao": ("id", "descricao"),
}

ARRAYS: dict[str, str] = {f"ArrayOf{name}": name for name in (
    "ResumoPedido", "ItemPedido", "Parcela", "Variacao", "NotaFiscal", "Opcao")}


def _op(name: str, params: str, returns: str, confirmed: bool = False,
        structs: tuple[tuple[str, str], ...] = ()) -> SoapOperation:
    """An operation taking the auth parameters, then ``params`` (text), then ``structs``."""
    texts = tuple((p, "xsd:string") for p in params.split())
    return SoapOperation(name, AUTH + texts + structs, f"tns:{returns}", confirmed)


_PRODUTO = (("produto", "tns:Produto"),)
_VARIACAO = (("variacao", "tns:Variacao"),)

SERVICE = SoapService(
    name="ws_servidor",
    namespace=NAMESPACE,
    structs=STRUCTS,
    arrays=ARRAYS,
    operations=(
        # orders: a queue (the ToDo list), then each order's parts
        _op("fWSImportaPedidos", "status_atual data_inicial data_final hora_inicial hora_final "
            "pagina limite", "ArrayOfResumoPedido", confirmed=True),
        _op("fWSImportaPedidoPorId", "id_pedido", "Pedido", confirmed=True),
        _op("fWSImportaItensPedidoPorId", "id_pedido", "ArrayOfItemPedido", confirmed=True),
        _op("fWSImportaClientePorPedidoAvancado", "id_pedido", "Cliente", confirmed=True),
        _op("fWSImportaEnderecoEntregaPedido", "id_pedido", "Endereco"),
        _op("fWSImportaParcelasPedidoPorId", "id_pedido", "ArrayOfParcela", confirmed=True),
        _op("fWSAtualizaListaToDo", "entidade id", "Retorno", confirmed=True),
        _op("fWSAtualizaStatusPedido", "id_pedido id_status notificar_cliente", "Retorno"),
        _op("fWSAtualizaRastreioPedido", "id_pedido codigo_rastreio url_rastreio", "Retorno"),
        _op("fWSCadastraNotaFiscalPedido",
            "id_pedido numero serie chave_acesso data_emissao valor link", "Retorno"),
        _op("fWSImportaNotasFiscaisPedido", "id_pedido", "ArrayOfNotaFiscal"),
        # the store's option lists
        _op("fWSImportaStatusPedido", "", "ArrayOfOpcao"),
        _op("fWSFormasEnvioDisponiveis", "", "ArrayOfOpcao"),
        _op("fWSFormasPagamentosDisponiveis", "", "ArrayOfOpcao", confirmed=True),
        _op("fWSCanaisVendaDisponiveis", "", "ArrayOfOpcao"),
        # catalogue
        _op("fWSCadastraProduto", "", "Retorno", confirmed=True, structs=_PRODUTO),
        _op("fWSAtualizaProduto", "id_produto", "Retorno", structs=_PRODUTO),
        _op("fWSImportaProdutoPorID", "id_produto", "Produto", confirmed=True),
        _op("fWSImportaProdutoPorCodReferencia", "cod_prod", "Produto", confirmed=True),
        _op("fWSImportaVariacoesProduto", "id_produto", "ArrayOfVariacao"),
        _op("fWSImportaVariacaoPorCodReferencia", "cod_referencia", "Variacao"),
        _op("fWSCadastraVariacaoProduto", "id_produto", "Retorno", structs=_VARIACAO),
        _op("fWSAtualizaVariacaoProduto", "id_variacao", "Retorno", structs=_VARIACAO),
        _op("fWSExcluiVariacaoProduto", "id_variacao", "Retorno"),
        # stock, availability and reservations
        _op("fWSAtualizaEstoqueProduto", "is_grade id_produto estoque", "Retorno",
            confirmed=True),
        _op("fWSAtualizaProdutoDisponivel", "is_grade id_produto disponivel", "Retorno",
            confirmed=True),
        _op("fWSReservaEstoque", "id_reserva is_grade id_produto quantidade", "Retorno"),
        _op("fWSLiberaReservaEstoque", "id_reserva", "Retorno"),
    ),
)
